"""
The PostgreSQL backend (asyncpg): ``postgresql://user@host:port/dbname[?schema=NAME]``.

Everything lives in one schema (``?schema=`` in the URL, else ``$STOREMON_PG_SCHEMA``, else
``storemon``), made and upgraded by the numbered scripts of ``sql/postgres/migrations``;
the applied versions are rows of ``schema_migrations``. The tables are SQLite's, in
PostgreSQL types, plus what several server processes share: a lease on each Running job
and the time of the last refresh (``docs/operations.md``).

Connections come from one asyncpg pool whose ``search_path`` is the schema.

- ``transaction()`` holds one pooled connection for the task and takes a transaction-level
  advisory lock, so that writers of the data take turns across every process, as
  SQLite's one writer does (two ingests of one source never interleave).
- ``add_polls`` COPYs the rows into a temporary table (``copy_records_to_table``), then
  counts and upserts them with one statement each.
- ``snapshots`` reads in a ``REPEATABLE READ, READ ONLY`` transaction through a server-side
  cursor, one row per store: one consistent state, and flat memory.
- Report jobs are claimed with ``FOR UPDATE SKIP LOCKED`` and a lease (``claim_report``);
  the refresh runs once per interval (``claim_refresh``).

Every driver exception, and a refused or lost connection, leaves this module as
``StorageError`` with a one-line message (``translate_errors``); after a lost connection
the pool drops its connections, so that the next call reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import functools
import importlib.resources
import itertools
import os
import re
import urllib.parse
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs, no py.typed

from storemon.errors import BackendUnavailable, ReportNotFound, StorageError
from storemon.model import (
    DAY_US,
    SECOND_US,
    HoursRecord,
    HoursRow,
    PollRecord,
    Rejected,
    ReportJob,
    ReportStatus,
    SourceState,
    StoreSnapshot,
    ZoneRecord,
    from_epoch_us,
    to_epoch_us,
)

#: The schema when neither the URL (``?schema=``) nor ``SCHEMA_ENV`` names one.
DEFAULT_SCHEMA = "storemon"
#: The environment variable naming the schema.
SCHEMA_ENV = "STOREMON_PG_SCHEMA"

#: Rows per COPY batch pulled from the parser (in a worker thread), and per cursor fetch.
BATCH_ROWS = 50_000
#: Seconds to wait for a connection to the server.
CONNECT_TIMEOUT_S = 10.0
#: Seconds a health check waits for the database to answer.
PING_TIMEOUT_S = 3.0
#: Seconds one statement may run; a report's cursor fetch or an ingest's merge is far
#: less even at full size.
COMMAND_TIMEOUT_S = 600.0
#: Rows changed by one ``add_polls`` after which the planner's statistics are refreshed
#: at once (``ANALYZE polls``, about 0.2 s): right after a first load, the planner took
#: 1.5M polls in the week for 9,000 until autovacuum came by, and chose its plans so.
ANALYZE_AFTER_ROWS = 100_000
#: Pooled connections per process: a server's report workers, its refresh and its
#: requests share them.
POOL_MAX_SIZE = 10

_SQL = importlib.resources.files("storemon.storage") / "sql" / "postgres"
_MIGRATION_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

#: Errors that mean the connection is gone (server down or restarted), not the query.
_CONNECTION_LOST: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # the connection broke or does not exist
    asyncpg.exceptions.CannotConnectNowError,  # starting up or shutting down
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    OSError,  # refused, reset, unreachable (ConnectionError is one)
    TimeoutError,  # no answer within the connect or statement timeout
)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]


@contextlib.contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """
    Turn a driver or connection exception into ``StorageError`` saying what was being done.
    """
    try:
        yield
    except (asyncpg.PostgresError, *_CONNECTION_LOST) as error:
        if isinstance(error, _CONNECTION_LOST):
            reason = f"the database is unreachable ({_one_line(error)})"
        else:
            reason = _one_line(error)
        raise StorageError(f"PostgreSQL: {action}: {reason}") from error


def _blocks(text: str) -> dict[str, str]:
    blocks: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("-- name:"):
            if name is not None:
                blocks[name] = "\n".join(lines).strip()
            name, lines = line.removeprefix("-- name:").strip(), []
        elif name is not None and not line.startswith("--"):
            lines.append(line)
    if name is not None:
        blocks[name] = "\n".join(lines).strip()
    return blocks


@functools.cache
def queries() -> dict[str, str]:
    """
    Return the named blocks of ``queries.sql``.
    """
    return _blocks((_SQL / "queries.sql").read_text(encoding="utf-8"))


@functools.cache
def migrations() -> tuple[tuple[int, str, str], ...]:
    """
    Return ``(version, file name, script)`` of every migration, in version order.
    """
    found = []
    for entry in (_SQL / "migrations").iterdir():
        match = _MIGRATION_NAME.fullmatch(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    if [version for version, _, _ in found] != list(range(1, len(found) + 1)):
        raise StorageError("PostgreSQL migrations are not numbered 0001, 0002, ... without gaps")
    return tuple(found)


def schema_version() -> int:
    """
    Return the schema version this code writes (the number of migrations).
    """
    return len(migrations())


def parse_url(url: str, environ: dict[str, str] | None = None) -> tuple[str, str]:
    """
    Split a ``postgresql://`` URL into the DSN asyncpg is given and the schema name.

    Raises:
        BackendUnavailable: the schema name is not a plain lower-case identifier.
    """
    environ = dict(os.environ) if environ is None else environ
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    schema = environ.get(SCHEMA_ENV) or DEFAULT_SCHEMA
    kept = []
    for key, value in query:
        if key == "schema":
            schema = value
        else:
            kept.append((key, value))
    if not _SCHEMA_NAME.fullmatch(schema):
        raise BackendUnavailable(
            f"PostgreSQL schema {schema!r}: use a lower-case name of letters, digits and _"
        )
    dsn = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(kept)))
    return dsn, schema


def redacted(url: str) -> str:
    """
    Return ``url`` without its password, for messages.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _time_us(value: int) -> dt.time:
    seconds, micros = divmod(value, SECOND_US)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return dt.time(hour, minute, second, micros)


def hours_row(day: int, start_us: int, end_us: int) -> HoursRow:
    """
    Rebuild a stored business-hours row (``end_us`` of a whole day is ``24:00:00``).
    """
    if end_us == DAY_US:
        return HoursRow(day, _time_us(start_us), dt.time(0), end_is_midnight=True)
    return HoursRow(day, _time_us(start_us), _time_us(end_us))


class _RowCache:
    """
    Build each distinct hours row once: most stores share a few (attrs validation costs).
    """

    def __init__(self) -> None:
        self._made: dict[tuple[int, int, int], HoursRow] = {}

    def rows(
        self, days: Sequence[int] | None, starts: Sequence[int] | None, ends: Sequence[int] | None
    ) -> tuple[HoursRow, ...]:
        if not days or starts is None or ends is None:
            return ()
        made = []
        for key in zip(days, starts, ends, strict=True):
            row = self._made.get(key)
            if row is None:
                row = self._made[key] = hours_row(*key)
            made.append(row)
        return tuple(made)


def _job(row: Sequence[Any]) -> ReportJob:
    report_id, status, as_of, created_at, finished_at, csv, error = row
    return ReportJob(
        report_id=report_id,
        status=status,
        as_of=None if as_of is None else from_epoch_us(as_of),
        created_at=from_epoch_us(created_at),
        finished_at=None if finished_at is None else from_epoch_us(finished_at),
        csv=csv,
        error=error,
    )


def _take(rows: Iterator[Any], size: int, start: int) -> list[tuple[Any, ...]]:
    # Numbered in file order: for two rows of one key, the later (higher seq) wins.
    return [(*row, seq) for seq, row in enumerate(itertools.islice(rows, size), start)]


def _rowcount(status: str) -> int:
    # asyncpg returns the command tag, such as "INSERT 0 12" or "UPDATE 1".
    return int(status.rsplit(" ", 1)[-1])


class PostgresRepository:
    """
    The repository protocols over one PostgreSQL schema; an async context manager.
    """

    def __init__(self, url: str, *, pool_max_size: int = POOL_MAX_SIZE) -> None:
        self.url = url
        self.dsn, self.schema = parse_url(url)
        self.pool_max_size = pool_max_size
        self._pool: asyncpg.Pool | None = None
        self._connection: contextvars.ContextVar[asyncpg.Connection | None] = (
            contextvars.ContextVar(f"storemon-pg-tx-{id(self)}", default=None)
        )

    def __repr__(self) -> str:
        return f"PostgresRepository({redacted(self.url)!r})"

    # Lifecycle

    async def __aenter__(self) -> PostgresRepository:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """
        Connect (a pool), create the schema if needed and bring it up to date.

        Raises:
            StorageError: the server cannot be reached, refuses the credentials, or the
                schema is newer than this code knows.
        """
        where = redacted(self.url)
        with translate_errors(f"connect to {where}"):
            try:
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=0,  # no floor to restore while the server is down
                    max_size=self.pool_max_size,
                    timeout=CONNECT_TIMEOUT_S,
                    command_timeout=COMMAND_TIMEOUT_S,
                    server_settings={"search_path": self.schema},
                )
            except ValueError as error:  # a malformed DSN
                raise BackendUnavailable(f"{where}: {error}") from None
        try:
            with translate_errors(f"migrate schema {self.schema} in {where}"):
                await self._migrate()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """
        Close the pool; safe to call twice.
        """
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(*_CONNECTION_LOST, asyncpg.PostgresError):
                await asyncio.wait_for(pool.close(), CONNECT_TIMEOUT_S)

    async def _migrate(self) -> None:
        # Up to date (the usual case, and every report child): read the version only, with
        # no lock and no DDL, so that a role without CREATE rights can open the schema.
        async with self._acquire() as connection:
            if await self._schema_version(connection) == schema_version():
                return
            async with connection.transaction():
                # One process migrates at a time; the others then find the schema current.
                await connection.execute(
                    "SELECT pg_advisory_xact_lock(hashtext($1))", f"storemon:migrate:{self.schema}"
                )
                await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                await connection.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY,"
                    " name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                )
                version = await self._schema_version(connection)
                for number, name, script in migrations()[version:]:
                    await connection.execute(script)
                    await connection.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        number,
                        name,
                    )

    async def _schema_version(self, connection: asyncpg.Connection) -> int:
        """
        Return the schema's version (0 when it has no tables yet).

        Raises:
            StorageError: the schema is newer than this code.
        """
        table = f'"{self.schema}".schema_migrations'
        version = 0
        if await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", table):
            version = await connection.fetchval(f"SELECT coalesce(max(version), 0) FROM {table}")
        if version > schema_version():
            raise StorageError(
                f"PostgreSQL schema {self.schema} has version {version}, newer than this "
                f"storemon knows ({schema_version()}); upgrade storemon"
            )
        return int(version)

    @property
    def _open_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StorageError(f"{self!r} is not open; use 'async with'")
        return self._pool

    @contextlib.asynccontextmanager
    async def _acquire(self) -> AsyncIterator[asyncpg.Connection]:
        """
        This task's transaction connection, else one from the pool.

        A lost connection makes the pool drop every connection it holds (they all went
        with the server), so that the next call reconnects instead of failing again.
        """
        current = self._connection.get()
        if current is not None:
            yield current
            return
        pool = self._open_pool
        try:
            async with pool.acquire() as connection:
                yield connection
        except _CONNECTION_LOST:
            await pool.expire_connections()
            raise

    async def _fetch(self, action: str, name: str, *args: Any) -> list[Any]:
        """
        Run a read; retried once when the pool's connection turns out to be lost.
        """
        for attempt in (1, 2):
            try:
                with translate_errors(action):
                    async with self._acquire() as connection:
                        return list(await connection.fetch(queries()[name], *args))
            except StorageError as error:
                lost = isinstance(error.__cause__, _CONNECTION_LOST)
                if attempt == 2 or not lost or self._connection.get() is not None:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _execute(self, action: str, name: str, *args: Any) -> str:
        with translate_errors(action):
            async with self._acquire() as connection:
                return str(await connection.execute(queries()[name], *args))

    async def ping(self) -> None:
        """
        Check that the database answers within ``PING_TIMEOUT_S`` (for health checks).

        A connection found dead (the server restarted) is replaced and tried once more.

        Raises:
            StorageError: it does not answer.
        """
        with translate_errors("check the connection"):
            async with asyncio.timeout(PING_TIMEOUT_S):
                for attempt in (1, 2):
                    try:
                        async with self._acquire() as connection:
                            await connection.fetchval("SELECT 1")
                        return
                    except _CONNECTION_LOST:
                        if attempt == 2:
                            raise

    # IngestStore

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """
        One write transaction for this task, after the other writers of the schema.
        """
        if self._connection.get() is not None:
            yield
            return
        with translate_errors("begin a write"):
            async with contextlib.AsyncExitStack() as stack:
                connection = await stack.enter_async_context(self._acquire())
                await stack.enter_async_context(connection.transaction())
                await connection.execute(
                    "SELECT pg_advisory_xact_lock(hashtext($1))", f"storemon:write:{self.schema}"
                )
                token = self._connection.set(connection)
                try:
                    yield
                finally:
                    self._connection.reset(token)

    async def source_state(self, kind: str, source: str) -> SourceState | None:
        rows = await self._fetch("read the source state", "get_source_state", kind, source)
        if not rows:
            return None
        (kind, source, size, content_hash, offset, prefix_hash, lines, ingested_at) = rows[0][:8]
        mtime_ns, etag, last_modified = rows[0][8:]
        return SourceState(
            kind=kind,
            source=source,
            size=size,
            content_hash=content_hash,
            offset=offset,
            prefix_hash=prefix_hash,
            lines=lines,
            ingested_at=from_epoch_us(ingested_at),
            mtime_ns=mtime_ns,
            etag=etag,
            last_modified=last_modified,
        )

    async def save_source_state(self, state: SourceState) -> None:
        async with self.transaction():
            await self._execute(
                "save the source state",
                "save_source_state",
                state.kind,
                state.source,
                state.size,
                state.content_hash,
                state.offset,
                state.prefix_hash,
                state.lines,
                to_epoch_us(state.ingested_at),
                state.mtime_ns,
                state.etag,
                state.last_modified,
            )

    async def add_rejects(self, rejects: Iterable[Rejected], *, ingested_at: dt.datetime) -> int:
        at_us = to_epoch_us(ingested_at)
        rows = [
            (item.source, item.line, item.column, item.reason, item.text, at_us) for item in rejects
        ]
        async with self.transaction(), self._acquire() as connection:
            with translate_errors("keep rejected rows"):
                await connection.copy_records_to_table(
                    "rejects",
                    records=rows,
                    columns=["source", "line", "column", "reason", "text", "ingested_at"],
                    schema_name=self.schema,
                )
        return len(rows)

    async def clear_rejects(self, source: str) -> None:
        async with self.transaction():
            await self._execute("clear rejected rows", "clear_rejects", source)

    async def rejects(self, source: str | None = None) -> list[Rejected]:
        if source is None:
            rows = await self._fetch("read rejected rows", "all_rejects")
        else:
            rows = await self._fetch("read rejected rows", "source_rejects", source)
        return [Rejected(*row) for row in rows]

    # PollSink

    async def add_polls(self, polls: Iterable[PollRecord]) -> int:
        """
        COPY the rows into a temporary table in batches, then count and merge them.

        Batches are pulled from ``polls`` (the parsing, for an ingest) in a worker thread.
        """
        rows = iter(polls)
        async with self.transaction(), self._acquire() as connection:
            with translate_errors("store polls"):
                await connection.execute(queries()["create_poll_stage"])
                await connection.execute("TRUNCATE stage_polls")
                seq = 0
                while batch := await asyncio.to_thread(_take, rows, BATCH_ROWS, seq):
                    await connection.copy_records_to_table(
                        "stage_polls", records=batch, columns=["store_id", "at_us", "active", "seq"]
                    )
                    seq += len(batch)
                if not seq:
                    return 0
                changed: int = await connection.fetchval(queries()["count_changed_polls"])
                await connection.execute(queries()["merge_polls"])
                if changed >= ANALYZE_AFTER_ROWS:
                    await connection.execute("ANALYZE polls")
        return changed

    # MetadataSink

    async def replace_hours(self, rows: Iterable[HoursRecord]) -> None:
        values = [(store_id, row.day, row.start_us, row.end_us) for store_id, row in rows]
        async with self.transaction(), self._acquire() as connection:
            with translate_errors("replace business hours"):
                await connection.execute(queries()["create_hours_stage"])
                await connection.execute("TRUNCATE stage_hours")
                await connection.copy_records_to_table(
                    "stage_hours", records=values, columns=["store_id", "day", "start_us", "end_us"]
                )
                await connection.execute("DELETE FROM hours")
                await connection.execute(queries()["merge_hours"])

    async def replace_zones(self, rows: Iterable[ZoneRecord]) -> None:
        values = [(store_id, zone_key, seq) for seq, (store_id, zone_key) in enumerate(rows)]
        async with self.transaction(), self._acquire() as connection:
            with translate_errors("replace time zones"):
                await connection.execute(queries()["create_zones_stage"])
                await connection.execute("TRUNCATE stage_zones")
                await connection.copy_records_to_table(
                    "stage_zones", records=values, columns=["store_id", "zone_key", "seq"]
                )
                await connection.execute("DELETE FROM zones")
                await connection.execute(queries()["merge_zones"])

    # MetadataSource

    async def hours_rows(self) -> list[HoursRecord]:
        cache = _RowCache()
        return [
            (store_id, cache.rows([day], [start], [end])[0])
            for store_id, day, start, end in await self._fetch("read business hours", "hours_rows")
        ]

    async def zone_rows(self) -> list[ZoneRecord]:
        rows = await self._fetch("read time zones", "zone_rows")
        return [(store_id, zone_key) for store_id, zone_key in rows]

    # StoreSource

    async def latest_poll_at(self) -> dt.datetime | None:
        rows = await self._fetch("read the latest poll", "latest_poll")
        latest = rows[0][0] if rows else None
        return None if latest is None else from_epoch_us(latest)

    async def snapshots(
        self, *, since: dt.datetime, as_of: dt.datetime
    ) -> AsyncIterator[StoreSnapshot]:
        """
        Stream one row per store through a server-side cursor in one read-only snapshot.
        """
        cache = _RowCache()
        action = "read the report's snapshot"
        with translate_errors(action):
            pool = self._open_pool
            connection = await pool.acquire()
        try:
            with translate_errors(action):
                transaction = connection.transaction(isolation="repeatable_read", readonly=True)
                await transaction.start()
            try:
                cursor = connection.cursor(
                    queries()["snapshots"],
                    to_epoch_us(since),
                    to_epoch_us(as_of),
                    prefetch=1000,
                )
                rows = cursor.__aiter__()
                while True:
                    with translate_errors(action):
                        row = await anext(rows, None)
                    if row is None:
                        break
                    store_id, times, actives, zone_key, days, starts, ends = row
                    yield StoreSnapshot(
                        store_id=store_id,
                        zone_key=zone_key,
                        hours=cache.rows(days, starts, ends),
                        poll_at_us=times,
                        poll_active=actives,
                    )
            finally:
                with contextlib.suppress(*_CONNECTION_LOST, asyncpg.PostgresError):
                    await transaction.rollback()
        finally:
            with contextlib.suppress(*_CONNECTION_LOST, asyncpg.PostgresError):
                await pool.release(connection)

    # StoreLookup

    async def snapshot(
        self, store_id: str, *, since: dt.datetime, as_of: dt.datetime
    ) -> StoreSnapshot | None:
        rows = await self._fetch(
            "read a store's snapshot",
            "store_snapshot",
            to_epoch_us(since),
            to_epoch_us(as_of),
            store_id,
        )
        times, actives, zone_key, days, starts, ends = rows[0]
        if not times:
            return None
        return StoreSnapshot(
            store_id=store_id,
            zone_key=zone_key,
            hours=_RowCache().rows(days, starts, ends),
            poll_at_us=times,
            poll_active=actives,
        )

    # ReportStore

    async def _update_report(self, name: str, report_id: str, *args: Any) -> None:
        status = await self._execute("update a report", name, *args)
        if not _rowcount(status):
            raise ReportNotFound(f"no report has id {report_id!r}")

    async def create_report(
        self, report_id: str, *, as_of: dt.datetime | None, created_at: dt.datetime
    ) -> ReportJob:
        as_of_us = None if as_of is None else to_epoch_us(as_of)
        created_us = to_epoch_us(created_at)
        await self._execute(
            "create a report",
            "create_report",
            report_id,
            ReportStatus.PENDING,
            as_of_us,
            created_us,
        )
        return _job((report_id, ReportStatus.PENDING, as_of_us, created_us, None, None, None))

    async def start_report(self, report_id: str) -> None:
        await self._update_report("start_report", report_id, ReportStatus.RUNNING, report_id)

    async def _end_report(self, name: str, report_id: str, *args: Any) -> None:
        """
        Finish or fail an unfinished job. A job already finished is left as it is: its
        ender is a worker that lost its lease while another took the job over and ended it.
        """
        status = await self._execute("update a report", name, *args)
        if not _rowcount(status):
            await self.get_report(report_id)  # ReportNotFound when there is no such job

    async def finish_report(self, report_id: str, *, csv: str, finished_at: dt.datetime) -> None:
        await self._end_report(
            "finish_report",
            report_id,
            ReportStatus.COMPLETE,
            csv,
            to_epoch_us(finished_at),
            report_id,
        )

    async def fail_report(self, report_id: str, *, error: str, finished_at: dt.datetime) -> None:
        await self._end_report(
            "fail_report",
            report_id,
            ReportStatus.FAILED,
            error,
            to_epoch_us(finished_at),
            report_id,
        )

    async def get_report(self, report_id: str) -> ReportJob:
        rows = await self._fetch("read a report", "get_report", report_id)
        if not rows:
            raise ReportNotFound(f"no report has id {report_id!r}")
        return _job(rows[0])

    async def unfinished_reports(self) -> list[ReportJob]:
        rows = await self._fetch("read unfinished reports", "unfinished_reports")
        return [_job(row) for row in rows]

    # SharedJobs: several processes share the queue and the refresh.

    async def claim_report(self, worker_id: str, *, lease: dt.timedelta) -> ReportJob | None:
        """
        Claim the oldest Pending job, or a Running one whose lease ran out; ``None`` if none.
        """
        rows = await self._fetch_write(
            "claim a report", "claim_report", worker_id, lease.total_seconds()
        )
        return _job(rows[0]) if rows else None

    async def renew_lease(self, report_id: str, worker_id: str, *, lease: dt.timedelta) -> bool:
        """
        Extend this worker's lease on a Running job; ``False`` if it is no longer its own.
        """
        status = await self._execute(
            "renew a lease", "renew_lease", report_id, worker_id, lease.total_seconds()
        )
        return _rowcount(status) == 1

    async def release_report(self, report_id: str, worker_id: str) -> None:
        """
        Hand a job this worker holds back to the queue (Pending), for another to take now.
        """
        await self._execute("hand back a report", "release_report", report_id, worker_id)

    async def queued_reports(self) -> int:
        """
        Return how many jobs are Pending, over every process.
        """
        rows = await self._fetch("count queued reports", "queued_reports")
        return int(rows[0][0])

    async def claim_refresh(self, every: dt.timedelta) -> bool:
        """
        Return whether this process should refresh now: no other refresh started within
        ``every`` (less a tolerance for timer jitter), and no other process is deciding.
        """
        slack = min(every.total_seconds() * 0.1, 60.0)
        with translate_errors("claim the refresh"):
            async with self._acquire() as connection, connection.transaction():
                locked = await connection.fetchval(
                    "SELECT pg_try_advisory_xact_lock(hashtext($1))",
                    f"storemon:refresh:{self.schema}",
                )
                if not locked:
                    return False
                rows = await connection.fetch(
                    queries()["claim_schedule"], "refresh", every.total_seconds() - slack
                )
                return bool(rows)

    async def _fetch_write(self, action: str, name: str, *args: Any) -> list[Any]:
        with translate_errors(action):
            async with self._acquire() as connection:
                return list(await connection.fetch(queries()[name], *args))


@contextlib.asynccontextmanager
async def open_repository(url: str) -> AsyncIterator[PostgresRepository]:
    """
    Open the PostgreSQL repository at ``url`` and close it on exit.
    """
    async with PostgresRepository(url) as repository:
        yield repository
