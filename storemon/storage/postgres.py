"""
The PostgreSQL backend (asyncpg): ``postgresql://user@host:port/dbname[?schema=NAME]``.

Everything lives in one schema (``?schema=`` in the URL, else ``$STOREMON_PG_SCHEMA``, else
``storemon``), made and upgraded by the numbered scripts of ``sql/postgres/migrations``;
the applied versions are rows of ``schema_migrations``. The tables are SQLite's, in
PostgreSQL types (the rows map to model values through ``storemon.storage.columns``), polls
a store and UTC day per row (``poll_days``, schema version 6, ``storemon.storage.polldays``);
leases and the schedule use the server's clock, which every host sharing it agrees on.

Connections come from one asyncpg pool whose ``search_path`` is the schema.

- ``transaction()`` holds one pooled connection for the task and takes a transaction-level
  advisory lock, so that writers of the data take turns across every process, as
  SQLite's one writer does (two ingests of one source never interleave).
- ``add_polls`` gathers the polls by store in Python (``polldays.PollBuffer``), COPYs them
  a row per store into a temporary table outside any transaction, then merges them with
  the stored days store by store in one transaction (``polldays.merge_store``). ``replace_hours``,
  ``replace_zones`` and ``replace_special_hours`` COPY the rows into a temporary table in
  batches (``copy_records_to_table``), then count and merge them in SQL.
- ``snapshots`` reads in a ``REPEATABLE READ, READ ONLY`` transaction through a server-side
  cursor, one row per store (its days as one string, thinned in Python as SQLite's are),
  a batch ahead: one consistent state, and flat memory.
- Report jobs are claimed with ``FOR UPDATE SKIP LOCKED`` and a lease (``claim_report``);
  the refresh runs once per interval (``claim_refresh``).
- Queuing report work (a job, a job's shards, a job or shard handed back) sends a
  ``NOTIFY`` in the same transaction, delivered on commit to every process on the schema;
  ``wait_for_work`` listens on a connection of its own, outside the pool, reconnected
  when lost (notifications sent meanwhile are lost: callers look every second anyway).

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
import itertools
import operator
import os
import re
import time
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]  # no stubs, no py.typed

from storemon import model
from storemon.errors import BackendUnavailable, DatabaseNotFound, StorageBusy, StorageError
from storemon.model import to_epoch_us
from storemon.storage import columns, polldays
from storemon.storage.lifecycle import Lifecycle
from storemon.storage.sqlfiles import SqlFiles
from storemon.storage.wake import WorkSignal

T = TypeVar("T")

#: The schema when neither the URL (``?schema=``) nor ``SCHEMA_ENV`` names one.
DEFAULT_SCHEMA = "storemon"
#: The environment variable naming the schema.
SCHEMA_ENV = "STOREMON_PG_SCHEMA"

#: Rows per COPY batch pulled from the parser (in a worker thread), and per cursor fetch.
BATCH_ROWS = 50_000
#: Stores per fetch of a report's cursor: one fetch's rows are about 3 MB for a week.
SNAPSHOT_ROWS = 1000
#: Seconds to wait for a connection to the server.
CONNECT_TIMEOUT_S = 10.0
#: Seconds a health check waits for the database to answer.
PING_TIMEOUT_S = 3.0
#: Seconds one statement may run; a report's cursor fetch or an ingest's merge is far
#: less even at full size.
COMMAND_TIMEOUT_S = 600.0
#: Day rows per COPY and per fetch of a merge: a day row holds a day of a store's polls
#: (about 400 bytes for 24 polls), so fewer rows than ``BATCH_ROWS`` keep memory flat.
DAY_BATCH_ROWS = 10_000
#: Store rows per COPY and per fetch of a stage: a store's row holds its polls of one
#: flush, 17 bytes each (about 2 KB for a week of the full-size fleet).
STORE_BATCH_ROWS = 1_000
#: Polls a stage gathers in Python (``polldays.PollBuffer``, 9 bytes each: about 27 MB)
#: before it COPYs them to its temporary table, a row per store. A week of the full-size
#: fleet (1.8M polls) is one piece, which the merge cuts into days and writes as it is.
STAGE_FLUSH_POLLS = 3_000_000
#: Rows changed by one ``add_polls`` after which the planner's statistics are refreshed
#: at once (``ANALYZE poll_days``): right after a first load, the planner would take the
#: table for a tiny one until autovacuum came by, and choose its plans so.
ANALYZE_AFTER_ROWS = 100_000

#: Pooled connections per process: a server's report workers, its refresh and its
#: requests share them.
POOL_MAX_SIZE = 10
#: The channel of the notifications that report work was queued; the payload is the
#: schema, so that the schemas of one database do not wake each other's workers.
WORK_CHANNEL = "storemon_work"
#: Seconds after a failed attempt to listen before the next.
RELISTEN_AFTER_S = 5.0

#: The SQL of this backend: ``sql/postgres/queries.sql`` and ``sql/postgres/migrations``.
SQL = SqlFiles("postgres")

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
    except (asyncpg.PostgresError, asyncpg.InterfaceError, *_CONNECTION_LOST) as error:
        # InterfaceError: the driver refused the call, e.g. on a connection that closed
        # under it while the server restarted.
        if isinstance(error, _CONNECTION_LOST):
            reason = f"the database is unreachable ({_one_line(error)})"
        else:
            reason = _one_line(error)
        raise StorageError(f"PostgreSQL: {action}: {reason}") from error


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


def _batch(rows: Iterator[T], size: int) -> list[T]:
    return list(itertools.islice(rows, size))


def _take(rows: Iterator[Any], size: int, start: int) -> list[tuple[Any, ...]]:
    # Numbered in file order: for two rows of one key, the later (higher seq) wins.
    return [(*row, seq) for seq, row in enumerate(itertools.islice(rows, size), start)]


def _rowcount(status: str) -> int:
    # asyncpg returns the command tag, such as "INSERT 0 12" or "UPDATE 1".
    return int(status.rsplit(" ", 1)[-1])


def _special(
    days: Sequence[int] | None, starts: Sequence[int] | None, ends: Sequence[int] | None
) -> tuple[tuple[model.SpecialHoursRow, ...], str | None]:
    """
    The special rows of one store from the parallel columns of a snapshot row.
    """
    if not days or starts is None or ends is None:
        return (), None
    return columns.store_special_rows(zip(days, starts, ends, strict=True))


#: The columns of a stored day row, in ``polldays.StoredDay`` order.
_DAY_COLUMNS = ["store_id", "day", "times", "statuses", "last_us"]
#: The columns of a staged store row (``polldays.StagedStore``, and the piece).
_STAGED_COLUMNS = ["store_id", "piece", "times", "statuses", "distinct_times"]


def _read_days(read: Callable[..., T], *args: Any) -> tuple[T | None, str | None]:
    """
    ``read(*args)`` on a store's stored days (a ``polldays`` reader), and ``None``; or
    ``None`` and why they cannot be read (``StoreSnapshot.problem``), for a day row that no
    version of storemon writes: it fails no report, the store is left out with the reason.
    """
    try:
        return read(*args), None
    except ValueError as error:
        return None, f"its stored polls cannot be read: {error}"


class _PollStage:
    """
    Polls gathered by store in Python (``polldays.PollBuffer``), COPYed a row per store
    into a temporary table of the stage's connection whenever ``STAGE_FLUSH_POLLS`` are
    gathered, then merged with the stored days in one transaction.
    """

    def __init__(self, repository: PostgresRepository, connection: asyncpg.Connection) -> None:
        self._repository = repository
        self._connection = connection
        self._buffer = polldays.PollBuffer()
        #: Flushes of the buffer since the last merge: the piece number of the next one.
        self._pieces = 0
        #: The first and last day of the polls staged since the last merge.
        self._first_day: int | None = None
        self._last_day: int | None = None

    async def add(self, polls: Iterable[model.PollRecord]) -> int:
        """
        Pull batches from ``polls`` into the buffer in a worker thread.
        """
        rows = iter(polls)
        return await self.add_batches(iter(lambda: list(itertools.islice(rows, BATCH_ROWS)), []))

    async def add_batches(self, batches: Iterable[Sequence[model.PollRecord]]) -> int:
        """
        Pull ``batches`` (the parsing, for an ingest) into the buffer in a worker thread;
        nothing waits for the parsing, and other writers wait at most one flush of the
        buffer.
        """
        pulled = iter(batches)
        staged = 0
        while taken := await asyncio.to_thread(self._buffer.take_batches, pulled, BATCH_ROWS):
            staged += taken
            if self._buffer.size >= STAGE_FLUSH_POLLS:
                await self._flush()
        return staged

    async def _flush(self) -> None:
        """
        COPY the buffer's polls to the stage a row per store, as a new piece, a batch at a
        time (the rows are made in the worker thread as the batches are taken).
        """
        if self._buffer.size:
            await self._stage(self._buffer.drain_stores())

    async def _stage(self, stores: Iterable[polldays.StagedStore]) -> None:
        # COPY ``stores`` as the next piece, a batch at a time.
        piece = self._pieces
        self._pieces += 1
        records = (
            (store_id, piece, times, statuses, distinct)
            for store_id, times, statuses, distinct in self._days_of(stores)
        )
        while batch := await asyncio.to_thread(_batch, records, STORE_BATCH_ROWS):
            with translate_errors("stage polls"):
                await self._connection.copy_records_to_table(
                    "stage_poll_stores", records=batch, columns=_STAGED_COLUMNS
                )

    def _days_of(self, stores: Iterable[polldays.StagedStore]) -> Iterator[polldays.StagedStore]:
        # Note the first and last day of the staged polls as they pass.
        for store in stores:
            times = store[1]
            first = polldays.first_instant(times) // polldays.DAY_US
            last = polldays.last_instant(times) // polldays.DAY_US
            if self._first_day is None or first < self._first_day:
                self._first_day = first
            if self._last_day is None or last > self._last_day:
                self._last_day = last
            yield store

    async def merge(self) -> int:
        """
        Merge the staged stores with their stored days (``polldays.merge_store``) in one
        transaction; return the rows new or changed.
        """
        connection, repository = self._connection, self._repository
        current = repository._connection.get()
        if current is not None and current is not connection:
            raise StorageError(
                "PostgreSQL: a poll stage merges in a transaction on its own connection: "
                "open it inside the stage's block, with no other stage open"
            )
        if self._pieces == 0 and 0 < self._buffer.size <= (
            polldays.APPEND_POLLS_PER_STORE * self._buffer.stores
        ):
            appended = await self._append_from_buffer(current)
            if appended is not None:
                return appended
        await self._flush()  # outside the transaction, unless the caller is in one
        if self._first_day is None or self._last_day is None:
            return 0
        days = (self._first_day, self._last_day)
        with translate_errors("store polls"):
            async with contextlib.AsyncExitStack() as stack:
                if current is None:
                    await stack.enter_async_context(repository._transaction_on(connection))
                changed = await _merge_staged(connection, repository.schema, days)
                await connection.execute(SQL.queries["merge_stores"])
                await connection.execute("TRUNCATE stage_poll_stores")
                if changed >= ANALYZE_AFTER_ROWS:
                    await connection.execute("ANALYZE poll_days")
        self._pieces = 0
        self._first_day = self._last_day = None
        return changed

    async def _append_from_buffer(self, current: asyncpg.Connection | None) -> int | None:
        """
        ``merge`` of a stage never flushed whose stores' polls are each once and all of
        one day (an hourly append): one statement writes each store's row or lengthens
        it (``upsert_poll_appends``), without the stage; return the polls added. ``None``
        when a store's polls are not so, or a stored row does not take them: then
        nothing was written, and the polls are the stage's first piece.
        """
        stores = await asyncio.to_thread(list, self._buffer.drain_stores())
        rows = []
        for store_id, times, statuses, distinct in stores:
            day = polldays.first_instant(times) // polldays.DAY_US
            last_us = polldays.last_instant(times)
            if not distinct or last_us // polldays.DAY_US != day:
                break
            rows.append((store_id, day, times, statuses, last_us))
        else:
            columns = [list(column) for column in zip(*rows, strict=True)]
            connection = self._connection
            with translate_errors("store polls"):
                async with contextlib.AsyncExitStack() as stack:
                    if current is None:
                        await stack.enter_async_context(
                            self._repository._transaction_on(connection)
                        )
                    try:
                        async with connection.transaction():  # a savepoint
                            written = await connection.fetchval(
                                SQL.queries["upsert_poll_appends"], *columns
                            )
                            if written != len(stores):
                                raise _NotAnAppend
                            await connection.execute(SQL.queries["add_stores"], columns[0])
                        return sum(len(statuses) for _, _, statuses, _ in stores)
                    except _NotAnAppend:
                        pass
        await self._stage(stores)
        return None


class _NotAnAppend(Exception):
    """A stored row does not take an append's polls: undo the append's writes."""


async def _merge_staged(connection: asyncpg.Connection, schema: str, days: tuple[int, int]) -> int:
    """
    Merge the staged stores into their stored days, in the caller's transaction; return
    the rows new or changed.

    The staged rows (by store, pieces in staging order) and the stored days of the staged
    stores from the first to the last staged day (by store and day) are read side by
    side through two cursors of SQL's own, a batch at a time, and each store is merged
    in Python (``polldays.merge_store``); its days not stored yet are COPYed into
    ``poll_days`` at once (nobody else writes meanwhile: the writers' advisory lock),
    changed ones over the stored rows in one ``UPDATE`` at the end.
    """
    await connection.execute(SQL.queries["create_poll_day_writes"])
    # Cursors of SQL's own, to close them when read: a portal left open keeps the stage's
    # table in use (no TRUNCATE, no DROP) until the caller's transaction ends.
    await connection.execute(
        f"DECLARE staged_stores NO SCROLL CURSOR FOR {SQL.queries['staged_poll_stores']}"
    )
    await connection.execute(
        f"DECLARE stored_days NO SCROLL CURSOR FOR {SQL.queries['stored_poll_days']}", *days
    )
    staged = columns.ByStore(
        functools.partial(connection.fetch, f"FETCH {STORE_BATCH_ROWS:d} FROM staged_stores")
    )
    stored = columns.ByStore(
        functools.partial(connection.fetch, f"FETCH {DAY_BATCH_ROWS:d} FROM stored_days")
    )
    changed = 0
    new: list[polldays.StoredDay] = []
    rewritten: list[polldays.StoredDay] = []
    while pieces := await staged.next_store():
        store_id = pieces[0][0]
        held = {day: (t, s, last) for _, day, t, s, last in await stored.of(store_id)}
        count, rows = polldays.merge_store(held, [(t, s, once) for _, t, s, once in pieces])
        changed += count
        for row in rows:
            (rewritten if row[0] in held else new).append((store_id, *row))
        new, rewritten = await _write_days(connection, schema, new, rewritten, DAY_BATCH_ROWS)
    await connection.execute("CLOSE staged_stores")
    await connection.execute("CLOSE stored_days")
    await _write_days(connection, schema, new, rewritten, 0)
    await _apply_rewrites(connection)
    return changed


async def _write_days(
    connection: asyncpg.Connection,
    schema: str,
    new: list[polldays.StoredDay],
    rewritten: list[polldays.StoredDay],
    at_least: int,
) -> tuple[list[polldays.StoredDay], list[polldays.StoredDay]]:
    """
    COPY ``new`` into ``poll_days`` and ``rewritten`` into ``write_poll_days``, each when
    it holds more than ``at_least`` rows; return what is left to write.
    """
    if len(new) > at_least:
        await connection.copy_records_to_table(
            "poll_days", records=new, columns=_DAY_COLUMNS, schema_name=schema
        )
        new = []
    if len(rewritten) > at_least:
        await connection.copy_records_to_table(
            "write_poll_days", records=rewritten, columns=_DAY_COLUMNS
        )
        rewritten = []
    return new, rewritten


async def _apply_rewrites(connection: asyncpg.Connection) -> None:
    """
    Write the days COPYed into ``write_poll_days`` over the stored ones, and empty it (a
    later merge or prune in the same transaction finds it again).
    """
    await connection.execute(SQL.queries["update_poll_days"])
    await connection.execute("TRUNCATE write_poll_days")


class PostgresRepository(Lifecycle):
    """
    The repository protocols over one PostgreSQL schema; an async context manager.
    """

    def __init__(
        self, url: str, *, pool_max_size: int = POOL_MAX_SIZE, create: bool = True
    ) -> None:
        self.url = url
        #: Create the schema when it is missing; ``False`` refuses a missing schema.
        self.create = create
        self.dsn, self.schema = parse_url(url)
        self.pool_max_size = pool_max_size
        self._pool: asyncpg.Pool | None = None
        self._connection: contextvars.ContextVar[asyncpg.Connection | None] = (
            contextvars.ContextVar(f"storemon-pg-tx-{id(self)}", default=None)
        )

        #: Wakes this process's ``wait_for_work``: its own queuing, and notifications.
        self._work = WorkSignal()
        #: The connection listening on ``WORK_CHANNEL`` (``wait_for_work``), if any.
        self._listener: asyncpg.Connection | None = None
        self._listening = asyncio.Lock()
        #: ``time.monotonic()`` before which no new listener is tried (after a failure).
        self._listen_after = 0.0

        #: Connections with a poll stage open (``stage_polls``).
        self._staging: set[asyncpg.Connection] = set()
        #: The connection the innermost poll stage of this task holds (``stage_polls``):
        #: its transaction, and its other calls, run there.
        self._held: contextvars.ContextVar[asyncpg.Connection | None] = contextvars.ContextVar(
            f"storemon-pg-stage-{id(self)}", default=None
        )

    def __repr__(self) -> str:
        return f"PostgresRepository({redacted(self.url)!r})"

    # Lifecycle

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
        await self._stop_listening()
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(*_CONNECTION_LOST, asyncpg.PostgresError):
                await asyncio.wait_for(pool.close(), CONNECT_TIMEOUT_S)

    async def _migrate(self) -> None:
        # Up to date (the usual case, and every report child): read the version only, with
        # no lock and no DDL, so that a role without CREATE rights can open the schema.
        async with self._acquire() as connection:
            version = await self._schema_version(connection)
            if version == SQL.version:
                return
            if version == 0 and not self.create:
                raise DatabaseNotFound(
                    f"PostgreSQL schema {self.schema} has no storemon tables (nothing was created)"
                )
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
                for migration in SQL.migrations[version:]:
                    await connection.execute(migration.script)
                    await connection.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        migration.version,
                        migration.name,
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
        if version > SQL.version:
            raise StorageError(
                f"PostgreSQL schema {self.schema} has version {version}, newer than this "
                f"storemon knows ({SQL.version}); upgrade storemon"
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
        current = self._connection.get() or self._held.get()
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
                        return list(await connection.fetch(SQL.queries[name], *args))
            except StorageError as error:
                lost = isinstance(error.__cause__, _CONNECTION_LOST)
                if attempt == 2 or not lost or self._connection.get() is not None:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _execute(self, action: str, name: str, *args: Any) -> str:
        with translate_errors(action):
            async with self._acquire() as connection:
                return str(await connection.execute(SQL.queries[name], *args))

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
    async def transaction(self, *, wait: dt.timedelta | None = None) -> AsyncIterator[None]:
        """
        One write transaction for this task, after the other writers of the schema; inside
        a poll stage's block, on the stage's connection (``stage_polls``).

        With ``wait``, the writers' lock is waited for at most that long (``lock_timeout``
        for this transaction alone), then ``StorageBusy``.
        """
        if self._connection.get() is not None:
            yield
            return
        with translate_errors("begin a write"):
            async with self._acquire() as connection, self._transaction_on(connection, wait):
                yield

    @contextlib.asynccontextmanager
    async def _transaction_on(
        self, connection: asyncpg.Connection, wait: dt.timedelta | None = None
    ) -> AsyncIterator[None]:
        """
        ``transaction()`` on ``connection``.
        """
        async with connection.transaction():
            await self._lock_writers(connection, wait)
            token = self._connection.set(connection)
            try:
                yield
            finally:
                self._connection.reset(token)

    async def _lock_writers(
        self, connection: asyncpg.Connection, wait: dt.timedelta | None
    ) -> None:
        """
        Take the writers' advisory lock for this transaction; with ``wait``, give up after
        it (``StorageBusy``): a request is answered, not queued behind another's ingest.
        """
        lock = "SELECT pg_advisory_xact_lock(hashtext($1))"
        name = f"storemon:write:{self.schema}"
        if wait is None:
            await connection.execute(lock, name)
            return
        timeout_ms = max(int(wait.total_seconds() * 1000), 1)
        await connection.execute(f"SET LOCAL lock_timeout = {timeout_ms:d}")
        try:
            await connection.execute(lock, name)
        except asyncpg.exceptions.LockNotAvailableError:
            raise StorageBusy(
                f"PostgreSQL: schema {self.schema} is locked by another process's write"
            ) from None
        # The rest of the transaction waits as any other (the configured default).
        await connection.execute("SET LOCAL lock_timeout TO DEFAULT")

    async def source_state(self, kind: str, source: str) -> model.SourceState | None:
        found = await self._fetch("read the source state", "get_source_state", kind, source)
        return columns.source_state(found[0]) if found else None

    async def save_source_state(self, state: model.SourceState) -> None:
        async with self.transaction():
            values = columns.source_state_values(state)
            await self._execute("save the source state", "save_source_state", *values)

    async def add_rejects(
        self, rejects: Iterable[model.Rejected], *, ingested_at: dt.datetime
    ) -> int:
        values = columns.reject_values(rejects, ingested_at)
        async with self.transaction(), self._acquire() as connection:
            with translate_errors("keep rejected rows"):
                await connection.copy_records_to_table(
                    "rejects",
                    records=values,
                    columns=list(columns.REJECT_COLUMNS),
                    schema_name=self.schema,
                )
        return len(values)

    async def clear_rejects(self, source: str) -> None:
        async with self.transaction():
            await self._execute("clear rejected rows", "clear_rejects", source)

    async def rejects(self, source: str | None = None) -> list[model.Rejected]:
        if source is None:
            found = await self._fetch("read rejected rows", "all_rejects")
        else:
            found = await self._fetch("read rejected rows", "source_rejects", source)
        return [model.Rejected(*row) for row in found]

    async def claim_refresh(self, every: dt.timedelta) -> bool:
        """
        Record this refresh unless another started within ``every``; a process that finds
        another deciding at this moment (an advisory lock) leaves the refresh to it.
        """
        with translate_errors("claim the refresh"):
            async with self._acquire() as connection, connection.transaction():
                locked = await connection.fetchval(
                    "SELECT pg_try_advisory_xact_lock(hashtext($1))",
                    f"storemon:refresh:{self.schema}",
                )
                if not locked:
                    return False
                claimed = await connection.fetch(
                    SQL.queries["claim_schedule"], "refresh", every.total_seconds()
                )
                return bool(claimed)

    # PollSink

    async def add_polls(self, polls: Iterable[model.PollRecord]) -> int:
        """
        Stage the polls, then count and merge them in one transaction (``stage_polls``).
        """
        async with self.stage_polls() as stage:
            await stage.add(polls)
            return await stage.merge()

    @contextlib.asynccontextmanager
    async def stage_polls(self) -> AsyncIterator[_PollStage]:
        """
        A stage in the temporary table ``stage_poll_stores`` of a connection this task holds
        until the end of the block: a new one from the pool, or its transaction's (one
        stage at a time there: the table has one name). The COPYs run outside any
        transaction, and a ``transaction()`` opened inside the block, like ``merge``'s
        own, runs on that connection, so the merge commits with what the task writes
        beside it.
        """
        async with contextlib.AsyncExitStack() as stack:
            current = self._connection.get()
            if current is not None and current in self._staging:
                raise StorageError("PostgreSQL: one poll stage at a time in a transaction")
            with translate_errors("make a stage for polls"):
                connection: asyncpg.Connection = (
                    current
                    if current is not None
                    else await stack.enter_async_context(self._open_pool.acquire())
                )
                await connection.execute(SQL.queries["create_poll_stage"])
                await connection.execute("TRUNCATE stage_poll_stores")
            self._staging.add(connection)
            token = self._held.set(connection)
            try:
                yield _PollStage(self, connection)
            finally:
                self._held.reset(token)
                self._staging.discard(connection)
                with contextlib.suppress(*_CONNECTION_LOST, asyncpg.PostgresError):
                    await connection.execute("DROP TABLE IF EXISTS stage_poll_stores")

    async def prune_polls(self, before: dt.datetime) -> int:
        """
        Prune ``PRUNE_STORES`` stores at a time (``polldays.pruned``), each range its own
        transaction (after the schema's other writers, as every write). Autovacuum makes
        the dead rows' space reusable; the files do not shrink (docs/storage.md).
        """
        before_us = to_epoch_us(before)
        ids = [row[0] for row in await self._fetch("list stores", "store_ids")]
        removed = 0
        for first, last in columns.store_ranges(ids, columns.PRUNE_STORES):
            async with self.transaction(), self._acquire() as connection:
                with translate_errors("read polls to prune"):
                    rows = await connection.fetch(
                        SQL.queries["prune_poll_days"], first, last, before_us // polldays.DAY_US
                    )
                deleted: list[tuple[str, int]] = []
                rewritten: list[polldays.StoredDay] = []
                for store_id, days in itertools.groupby(rows, operator.itemgetter(0)):
                    pruned, _problem = _read_days(
                        polldays.pruned, [row[1:] for row in days], before_us
                    )
                    if pruned is None:
                        continue  # unreadable rows are left as they are (a report says why)
                    count, gone, kept = pruned
                    removed += count
                    deleted += [(store_id, day) for day in gone]
                    rewritten += [(store_id, *day) for day in kept]
                with translate_errors("prune polls"):
                    if deleted:
                        gone_ids, gone_days = zip(*deleted, strict=True)
                        await connection.execute(
                            SQL.queries["delete_poll_days"], list(gone_ids), list(gone_days)
                        )
                    if rewritten:
                        await connection.execute(SQL.queries["create_poll_day_writes"])
                        await _write_days(connection, self.schema, [], rewritten, 0)
                        await _apply_rewrites(connection)
        return removed

    # MetadataSink

    async def replace_hours(self, rows: Iterable[model.HoursRecord]) -> int:
        staged = ["store_id", "day", "start_us", "end_us", "seq"]
        return await self._replace("hours", staged, "count_new_hours", columns.hours_values(rows))

    async def replace_zones(self, rows: Iterable[model.ZoneRecord]) -> int:
        staged = ["store_id", "zone_key", "seq"]
        return await self._replace("zones", staged, "count_changed_zones", iter(rows))

    async def replace_special_hours(self, rows: Iterable[model.SpecialHoursRecord]) -> int:
        staged = ["store_id", "day", "start_us", "end_us", "seq"]
        values = columns.special_values(rows)
        return await self._replace("special_hours", staged, "count_new_special_hours", values)

    async def replace_store_hours(self, store_id: str, rows: Sequence[model.HoursRow]) -> int:
        values = list(columns.hours_values((store_id, row) for row in rows))
        async with self.transaction(), self._acquire() as connection:
            with translate_errors("replace a store's hours"):
                stored = await connection.fetch(SQL.queries["store_hours"], store_id)
                await connection.execute(SQL.queries["delete_store_hours"], store_id)
                await connection.executemany(SQL.queries["insert_hours"], values)
        return columns.new_store_hours(stored, rows)

    async def replace_store_zone(self, store_id: str, zone_key: str) -> bool:
        async with self.transaction(), self._acquire() as connection:
            with translate_errors("set a store's zone"):
                stored = await connection.fetchval(SQL.queries["store_zone"], store_id)
                await connection.execute(SQL.queries["set_zone"], store_id, zone_key)
        return bool(stored != zone_key)

    async def _replace(
        self, table: str, staged: list[str], count: str, values: Iterator[Any]
    ) -> int:
        """
        COPY a snapshot file into a temporary table in batches, count what it changes
        (the query ``count``), and replace the table from it, all in SQL.
        """
        async with self.transaction(), self._acquire() as connection:
            with translate_errors(f"replace the {table} table"):
                await connection.execute(SQL.queries[f"create_{table}_stage"])
                await _copy_batches(connection, f"stage_{table}", staged, values)
                changed: int = await connection.fetchval(SQL.queries[count])
                await connection.execute(f"DELETE FROM {table}")
                await connection.execute(SQL.queries[f"merge_{table}"])
        return changed

    # MetadataSource

    async def hours_rows(self) -> list[model.HoursRecord]:
        made = columns.HoursRows()
        found = await self._fetch("read business hours", "hours_rows")
        return [(store_id, made.row(day, start, end)) for store_id, day, start, end in found]

    async def zone_rows(self) -> list[model.ZoneRecord]:
        found = await self._fetch("read time zones", "zone_rows")
        return [(store_id, zone_key) for store_id, zone_key in found]

    async def special_hours_rows(self) -> list[model.SpecialHoursRecord]:
        found = await self._fetch("read special hours", "special_hours_rows")
        return [
            (store_id, columns.special_row(day, start, end)) for store_id, day, start, end in found
        ]

    async def snapshot_rows(self, kind: str) -> int:
        table = columns.snapshot_table(kind)
        [[count]] = await self._fetch(f"count the {table} rows", f"count_{table}")
        return int(count)

    # StoreSource

    async def latest_poll_at(self) -> dt.datetime | None:
        [[latest]] = await self._fetch("read the latest poll", "latest_poll")
        return columns.instant(latest)

    async def split_stores(self, parts: int, *, min_stores: int = 1) -> list[model.StoreRange]:
        rows = await self._fetch("list stores", "store_ids")
        return model.split_stores([row[0] for row in rows], parts, min_stores)

    async def snapshots(
        self,
        *,
        since: dt.datetime,
        as_of: dt.datetime,
        max_gap_us: int | None = None,
        stores: model.StoreRange | None = None,
    ) -> AsyncIterator[model.StoreSnapshot]:
        """
        Stream one row per store, its days as one string (``polldays``), through a
        server-side cursor in one read-only snapshot; send the polls that decide its
        numbers (``polldays.kept``: ``kept_polls``, or ``kept_polls_with_gaps`` with
        ``max_gap_us``), as SQLite does. The thinning is Python's: PostgreSQL only
        concatenates each store's day rows.
        """
        since_us, as_of_us = to_epoch_us(since), to_epoch_us(as_of)
        first_day, last_day = columns.special_days_around(since_us, as_of_us)
        made = columns.HoursRows()
        shard = columns.range_values(stores)
        action = "read the report's snapshot"
        with translate_errors(action):
            pool = self._open_pool
            connection = await pool.acquire()
        try:
            with translate_errors(action):
                transaction = connection.transaction(isolation="repeatable_read", readonly=True)
                await transaction.start()
            try:
                batches = _read_ahead(
                    connection,
                    action,
                    SQL.queries["snapshots"],
                    since_us // polldays.DAY_US,
                    as_of_us // polldays.DAY_US,
                    first_day,
                    last_day,
                    shard["first"] or "",
                    shard["end"],
                )
                async with contextlib.aclosing(batches):
                    async for batch in batches:
                        for row in batch:
                            store_id, times, statuses, zone_key, days, starts, ends, *special = row
                            kept, polls_problem = _read_days(
                                polldays.kept, times, statuses, since_us, as_of_us, max_gap_us
                            )
                            if kept is None and polls_problem is None:
                                continue  # its days hold polls after as_of only
                            poll_at_us, poll_active, gap_after = kept or ([], [], None)
                            hours, problem = made.store_rows(
                                zip(days, starts, ends, strict=True) if days else ()
                            )
                            special_rows, special_problem = _special(*special)
                            yield model.StoreSnapshot(
                                store_id=store_id,
                                zone_key=zone_key,
                                hours=hours,
                                special=special_rows,
                                poll_at_us=poll_at_us,
                                poll_active=poll_active,
                                gap_after=gap_after,
                                problem=polls_problem or problem or special_problem,
                            )
            finally:
                with contextlib.suppress(
                    *_CONNECTION_LOST, asyncpg.PostgresError, asyncpg.InterfaceError
                ):
                    await transaction.rollback()
        finally:
            with contextlib.suppress(
                *_CONNECTION_LOST, asyncpg.PostgresError, asyncpg.InterfaceError
            ):
                await pool.release(connection)

    # StoreLookup

    async def snapshot(
        self, store_id: str, *, since: dt.datetime, as_of: dt.datetime
    ) -> model.StoreSnapshot | None:
        since_us, as_of_us = to_epoch_us(since), to_epoch_us(as_of)
        [found] = await self._fetch(
            "read a store's snapshot",
            "store_snapshot",
            since_us // polldays.DAY_US,
            as_of_us // polldays.DAY_US,
            store_id,
            *columns.special_days_around(since_us, as_of_us),
        )
        times, statuses, zone_key, days, starts, ends, *special = found
        if times is None:
            return None
        polls, polls_problem = _read_days(
            polldays.polls_of, [(times, statuses)], since_us, as_of_us
        )
        poll_at_us, poll_active = polls or ([], [])
        if not poll_at_us and polls_problem is None:
            return None
        hours, problem = columns.HoursRows().store_rows(
            zip(days, starts, ends, strict=True) if days else ()
        )
        special_rows, special_problem = _special(*special)
        return model.StoreSnapshot(
            store_id=store_id,
            zone_key=zone_key,
            hours=hours,
            special=special_rows,
            poll_at_us=poll_at_us,
            poll_active=poll_active,
            problem=polls_problem or problem or special_problem,
        )

    # ReportStore

    async def create_report(
        self,
        report_id: str,
        *,
        as_of: dt.datetime | None,
        created_at: dt.datetime,
        max_gap: dt.timedelta | None = None,
    ) -> model.ReportJob:
        as_of_us, created_us = columns.epoch_us(as_of), to_epoch_us(created_at)
        with translate_errors("create a report"):
            async with self._acquire() as connection, connection.transaction():
                await connection.execute(
                    SQL.queries["create_report"],
                    report_id,
                    as_of_us,
                    created_us,
                    columns.gap_us(max_gap),
                )
                await self._notify_work(connection)
        self._work.wake()
        return model.ReportJob(
            report_id, model.ReportStatus.PENDING, as_of, created_at, max_gap=max_gap
        )

    async def _end_report(self, name: str, report_id: str, *args: Any) -> None:
        # Only an unfinished job changes; none changed: no such job, or already ended.
        # Its shards go with it, in the same transaction.
        with translate_errors("end a report"):
            async with self._acquire() as connection, connection.transaction():
                status = await connection.execute(SQL.queries[name], *args, report_id)
                await connection.execute(SQL.queries["delete_shards"], report_id)
        if not _rowcount(status):
            await self.get_report(report_id)  # ReportNotFound when there is no such job

    async def finish_report(self, report_id: str, *, csv: str, finished_at: dt.datetime) -> None:
        finished_us = to_epoch_us(finished_at)
        await self._end_report("finish_report", report_id, csv, columns.csv_rows(csv), finished_us)

    async def fail_report(self, report_id: str, *, error: str, finished_at: dt.datetime) -> None:
        await self._end_report("fail_report", report_id, error, to_epoch_us(finished_at))

    async def get_report(self, report_id: str) -> model.ReportJob:
        found = await self._fetch("read a report", "get_report", report_id)
        return columns.found_job(found, report_id)

    async def list_reports(
        self, limit: int, *, before: model.ReportPosition | None = None
    ) -> list[model.ReportSummary]:
        after = columns.position_values(before)
        found = await self._fetch(
            "list reports", "list_reports", after["before_at"], after["before_id"], max(limit, 0)
        )
        return [columns.report_summary(row) for row in found]

    async def delete_reports(self, finished_before: dt.datetime) -> int:
        cutoff = to_epoch_us(finished_before)
        return _rowcount(await self._execute("delete reports", "delete_reports", cutoff))

    # ReportStore: the queue, shared by every process on the schema

    async def claim_report(self, worker_id: str, *, lease: dt.timedelta) -> model.ReportJob | None:
        """
        Claim with ``FOR UPDATE SKIP LOCKED``: claimers never wait for each other.
        """
        claimed = await self._fetch_write(
            "claim a report", "claim_report", worker_id, lease.total_seconds()
        )
        return columns.report_job(claimed[0]) if claimed else None

    async def renew_lease(self, report_id: str, worker_id: str, *, lease: dt.timedelta) -> bool:
        status = await self._execute(
            "renew a lease", "renew_lease", report_id, worker_id, lease.total_seconds()
        )
        return _rowcount(status) == 1

    async def release_report(self, report_id: str, worker_id: str) -> None:
        await self._hand_back("hand back a report", "release_report", report_id, worker_id)

    async def _hand_back(self, action: str, name: str, *args: Any) -> None:
        # Work handed back (on shutdown) is work queued: the other processes take it now.
        with translate_errors(action):
            async with self._acquire() as connection, connection.transaction():
                if _rowcount(await connection.execute(SQL.queries[name], *args)):
                    await self._notify_work(connection)
        self._work.wake()

    async def queued_reports(self) -> int:
        [[count]] = await self._fetch("count queued reports", "queued_reports")
        return int(count)

    # ReportStore: shards, claimed like jobs

    async def plan_shards(self, report_id: str, *, max_stores: int) -> int:
        """
        Plan under the job's row lock: two planners of one job (after a takeover) take
        turns, and the second finds the first one's shards.
        """
        with translate_errors("plan a report's shards"):
            async with self._acquire() as connection, connection.transaction():
                if not await connection.fetch(SQL.queries["lock_report"], report_id):
                    await self.get_report(report_id)  # ReportNotFound
                count = await connection.fetchval(SQL.queries["shard_count"], report_id)
                if count:
                    return int(count)
                stores = await connection.fetchval(SQL.queries["count_stores"])
                stride = model.shard_stride(stores, max_stores)
                starts = await connection.fetch(SQL.queries["store_starts"], stride)
                ranges = model.store_ranges([row[0] for row in starts])
                await connection.copy_records_to_table(
                    "report_shards",
                    records=[
                        (report_id, number, stores.first, stores.end, model.ReportStatus.PENDING)
                        for number, stores in enumerate(ranges)
                    ],
                    columns=["report_id", "number", "first_store", "end_store", "status"],
                    schema_name=self.schema,
                )
                if ranges:
                    await self._notify_work(connection)
        self._work.wake()
        return len(ranges)

    async def claim_shard(
        self, worker_id: str, *, lease: dt.timedelta, report_id: str | None = None
    ) -> model.ReportShard | None:
        """
        Claim with ``FOR UPDATE SKIP LOCKED``: claimers never wait for each other.
        """
        claimed = await self._fetch_write(
            "claim a shard", "claim_shard", worker_id, lease.total_seconds(), report_id
        )
        if not claimed:
            return None
        *row, as_of, max_gap_us = claimed[0]
        return columns.report_shard(row, as_of, max_gap_us)

    async def renew_shard(
        self, report_id: str, number: int, worker_id: str, *, lease: dt.timedelta
    ) -> bool:
        status = await self._execute(
            "renew a shard's lease",
            "renew_shard",
            report_id,
            number,
            worker_id,
            lease.total_seconds(),
        )
        return _rowcount(status) == 1

    async def release_shard(self, report_id: str, number: int, worker_id: str) -> None:
        await self._hand_back("hand back a shard", "release_shard", report_id, number, worker_id)

    async def finish_shard(self, result: model.ShardResult, *, report_id: str) -> int:
        """
        Store and count under the job's row lock: finishers of one job take turns, so the
        last one counts every other shard Done (each alone would miss the others' writes
        not yet committed).
        """
        with translate_errors("store a shard"):
            async with self._acquire() as connection, connection.transaction():
                await connection.execute(SQL.queries["lock_report"], report_id)
                await connection.execute(
                    SQL.queries["finish_shard"],
                    report_id,
                    result.number,
                    result.lines,
                    columns.skipped_text(result.skipped),
                )
                left = await connection.fetchval(SQL.queries["shards_left"], report_id)
        return int(left)

    async def shard_results(self, report_id: str) -> list[model.ShardResult] | None:
        [[left]] = await self._fetch("count a report's shards", "shards_left", report_id)
        if left:
            return None
        found = await self._fetch("read a report's shards", "shard_results", report_id)
        return columns.shard_results(found)

    # ReportStore: waking idle workers

    async def _notify_work(self, connection: asyncpg.Connection) -> None:
        """
        Notify every listener on the schema that report work was queued: sent in the
        caller's transaction, so delivered when (and only if) it commits.
        """
        await connection.execute(SQL.queries["notify_work"], WORK_CHANNEL, self.schema)

    async def wait_for_work(self, seconds: float) -> bool:
        """
        Listen (once, on a connection of its own) for the notifications of every process
        on the schema. A listener found lost is replaced, and the first wait after that
        returns at once (notifications may have been missed meanwhile); when no listener
        can be had, only this process's own queuing wakes it, or the time running out.
        """
        await self._listen()
        return await self._work.wait(seconds)

    async def _listen(self) -> None:
        """
        Make sure a listener is there; a new one wakes the waiters at once, as
        notifications may have been missed before it. Never raises: without a listener,
        the callers' fallback look remains.
        """
        if self._listener is not None and not self._listener.is_closed():
            return
        async with self._listening:
            if self._listener is not None and not self._listener.is_closed():
                return  # another worker of this process started it meanwhile
            await self._stop_listening()
            if self._pool is None or time.monotonic() < self._listen_after:
                return
            try:
                connection = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT_S)
                try:
                    await connection.add_listener(WORK_CHANNEL, self._notified)
                except BaseException:
                    await connection.close(timeout=CONNECT_TIMEOUT_S)
                    raise
            except asyncio.CancelledError:
                raise
            except Exception:  # no listener: the fallback look remains
                self._listen_after = time.monotonic() + RELISTEN_AFTER_S
                return
            self._listener = connection
            self._work.wake()

    def _notified(
        self, connection: asyncpg.Connection, pid: int, channel: str, payload: str
    ) -> None:
        if payload == self.schema:
            self._work.wake()

    async def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close(timeout=CONNECT_TIMEOUT_S)

    async def _fetch_write(self, action: str, name: str, *args: Any) -> list[Any]:
        with translate_errors(action):
            async with self._acquire() as connection:
                return list(await connection.fetch(SQL.queries[name], *args))


async def _read_ahead(
    connection: asyncpg.Connection, action: str, query: str, *args: Any
) -> AsyncGenerator[list[Any], None]:
    """
    Yield the rows of ``query`` in batches of ``SNAPSHOT_ROWS`` through a server-side
    cursor (in the caller's transaction), asking for the next batch before yielding one:
    PostgreSQL builds the next stores' rows while the caller computes on these.
    """
    with translate_errors(action):
        cursor = await connection.cursor(query, *args)
    following: asyncio.Future[list[Any]] = asyncio.ensure_future(cursor.fetch(SNAPSHOT_ROWS))
    try:
        while True:
            with translate_errors(action):
                batch = await following
            if not batch:
                return
            following = asyncio.ensure_future(cursor.fetch(SNAPSHOT_ROWS))
            await asyncio.sleep(0)  # send the request now: the caller computes without awaiting
            yield batch
    finally:
        if not following.done():
            following.cancel()
            await asyncio.wait([following])  # never raises; the transaction is rolled back


async def _copy_batches(
    connection: asyncpg.Connection,
    table: str,
    names: list[str],
    rows: Iterator[Any],
    *,
    start: int = 0,
) -> int:
    """
    COPY ``rows`` into a temporary table in batches pulled in a worker thread (the
    parsing, for an ingest), each row numbered in file order from ``start`` (the last
    column, ``seq``); return how many. The table is emptied first when ``start`` is 0.
    """
    if not start:
        await connection.execute(f"TRUNCATE {table}")
    seq = start
    while batch := await asyncio.to_thread(_take, rows, BATCH_ROWS, seq):
        await connection.copy_records_to_table(table, records=batch, columns=names)
        seq += len(batch)
    return seq - start


@contextlib.asynccontextmanager
async def open_repository(url: str, *, create: bool = True) -> AsyncIterator[PostgresRepository]:
    """
    Open the PostgreSQL repository at ``url`` and close it on exit; with ``create`` false,
    refuse a schema without storemon's tables instead of creating them.
    """
    async with PostgresRepository(url, create=create) as repository:
        yield repository
