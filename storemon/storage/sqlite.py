"""
The SQLite backend (aiosqlite): the embedded default, ``sqlite:///PATH``.

Shape of the database (``sql/sqlite/migrations/*.sql``): ``polls`` keyed by (store id,
instant) WITHOUT ROWID so that one store's polls sit together in time order, which is
the order the report reads them in; ``hours`` and ``zones`` (snapshot tables, replaced
whole); ``reports``; and, from schema version 2, ``rejects`` and ``source_state``.

Connections: one writer, used by every write inside ``transaction()`` (``BEGIN
IMMEDIATE``, so a writer never has to upgrade a read lock and fail with "database is
locked"); writers of this process take turns on an ``asyncio.Lock``, writers of other
processes wait in SQLite's busy handler (``busy_timeout``) and are retried. One reader
for small reads, and a fresh connection for each ``snapshots()`` stream, which holds one
read transaction: in WAL mode it sees one consistent state of the data while an ingest
commits beside it.

Every driver exception leaves this module as ``StorageError`` (``translate_errors``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import functools
import importlib.resources
import itertools
import operator
import re
import sqlite3
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar

import aiosqlite

from storemon.errors import ReportNotFound, StorageError
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
from storemon.uptime import kept_polls

#: Rows per ``executemany`` when storing polls, and per
#: ``fetchmany`` when reading them: large enough to amortise the thread hops, small
#: enough to keep memory flat.
BATCH_ROWS = 50_000

#: How long a writer waits for another process's write lock before SQLite gives up.
BUSY_TIMEOUT_S = 30.0

#: How often a write that still found the database locked is tried again.
LOCKED_RETRIES = 5

_Row = TypeVar("_Row")

_SQL = importlib.resources.files("storemon.storage") / "sql" / "sqlite"
_MIGRATION_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")


@contextlib.contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """
    Turn a driver exception into ``StorageError`` saying what was being done.
    """
    try:
        yield
    except sqlite3.Error as error:
        raise StorageError(f"SQLite: {action}: {error}") from error


@functools.cache
def queries() -> dict[str, str]:
    """
    Return the named blocks of ``queries.sql``.
    """
    blocks: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []
    for line in (_SQL / "queries.sql").read_text(encoding="utf-8").splitlines():
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
def migrations() -> tuple[tuple[int, str, str], ...]:
    """
    Return ``(version, file name, script)`` of every migration, in version order.

    Version ``n`` is made by ``n``'s file, applied to a database at version ``n - 1``.
    """
    found = []
    for entry in (_SQL / "migrations").iterdir():
        match = _MIGRATION_NAME.fullmatch(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    if [version for version, _, _ in found] != list(range(1, len(found) + 1)):
        raise StorageError("SQLite migrations are not numbered 0001, 0002, ... without gaps")
    return tuple(found)


def schema_version() -> int:
    """
    Return the schema version this code writes (the number of migrations).
    """
    return len(migrations())


def split_statements(script: str) -> list[str]:
    """
    Split an SQL script into complete statements.
    """
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            if statement.rstrip(";").strip():
                statements.append(statement)
            pending = ""
    if pending.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in pending.splitlines()
    ):
        raise StorageError(f"incomplete SQL statement in a migration: {pending.strip()[:80]}")
    return statements


def _is_locked(error: sqlite3.Error) -> bool:
    return isinstance(error, sqlite3.OperationalError) and (
        "locked" in str(error) or "busy" in str(error)
    )


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


def _shared_row(
    made: dict[tuple[int, int, int], HoursRow], day: int, start_us: int, end_us: int
) -> HoursRow:
    # Most stores share a few distinct rows: build each once (attrs validation costs).
    key = (day, start_us, end_us)
    row = made.get(key)
    if row is None:
        row = made[key] = hours_row(day, start_us, end_us)
    return row


def _take(rows: Iterator[_Row], size: int) -> list[_Row]:
    # In file order: two rows for one instant keep their order, so the later still wins.
    return list(itertools.islice(rows, size))


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


async def _grouped(
    cursor: aiosqlite.Cursor, size: int
) -> AsyncGenerator[tuple[str, list[Sequence[Any]]], None]:
    """
    Yield ``(store id, rows)`` from a cursor ordered by store id, fetching ``size`` rows
    at a time.
    """
    key: str | None = None
    rows: list[Sequence[Any]] = []
    while batch := await cursor.fetchmany(size):
        for store_id, group in itertools.groupby(batch, operator.itemgetter(0)):
            if store_id == key:
                rows.extend(group)
                continue
            if key is not None:
                yield key, rows
            key, rows = store_id, list(group)
    if key is not None:
        yield key, rows


async def _polls(
    groups: AsyncGenerator[tuple[str, list[Sequence[Any]]], None],
) -> AsyncGenerator[tuple[str, list[int], list[bool]], None]:
    """
    Yield ``(store id, instants, statuses)`` from poll rows grouped by store.
    """
    async for store_id, rows in groups:
        yield store_id, [row[1] for row in rows], [row[2] == 1 for row in rows]


#: Added to every instant in ``snapshot_changes`` so that each is written with 19 digits.
_FIXED_WIDTH_BIAS = 10**18
_FIXED_WIDTH = 19

#: Stores per ``snapshot_changes`` query: its one string holds all of their polls.
CHANGE_STORES = 500


async def _thinned(
    connection: aiosqlite.Connection, bounds: dict[str, int]
) -> AsyncGenerator[tuple[str, list[int], list[bool]], None]:
    """
    Yield ``(store id, instants, statuses)`` of the polls that decide each store's numbers,
    in store-id order, from ``snapshot_changes`` run on ranges of ``CHANGE_STORES`` stores.

    While this thread turns one range into snapshots (and the engine runs on them), SQLite
    builds the next range's string in aiosqlite's thread. That is one step of C code
    without the GIL, so the two overlap on two cores (a query with a row per store would
    need the GIL back for every row, and wait for it while this thread computes).
    """
    ids = [row[0] for row in await connection.execute_fetchall(queries()["store_ids"])]
    ranges = [
        (ids[start], ids[min(start + CHANGE_STORES, len(ids)) - 1])
        for start in range(0, len(ids), CHANGE_STORES)
    ]
    del ids

    async def fetch(first: str, last: str) -> str | None:
        cursor = await connection.execute(
            queries()["snapshot_changes"], {**bounds, "first": first, "last": last}
        )
        row = await cursor.fetchone()
        await cursor.close()
        return None if row is None else row[0]

    following: asyncio.Future[str | None] | None = None
    try:
        for index, (first, last) in enumerate(ranges):
            current = (
                following if following is not None else asyncio.ensure_future(fetch(first, last))
            )
            text = await current
            following = (
                asyncio.ensure_future(fetch(*ranges[index + 1]))
                if index + 1 < len(ranges)
                else None
            )
            # Let the task hand the query to aiosqlite's thread now: the consumer of this
            # generator computes without returning to the event loop.
            await asyncio.sleep(0)
            if text is None:
                continue
            for store_id, times, statuses in _split_changes(text):
                if len(times) != _FIXED_WIDTH * len(statuses):
                    # An instant before 1970 or after 2255 is not 19 digits wide: read
                    # this store row by row, in the same read transaction.
                    rows = await connection.execute_fetchall(
                        queries()["store_polls"], {**bounds, "store_id": store_id}
                    )
                    yield store_id, [row[0] for row in rows], [row[1] == 1 for row in rows]
                    continue
                yield store_id, *_kept(times, statuses)
    finally:
        if following is not None and not following.done():
            following.cancel()
            await asyncio.wait([following])  # never raises; the task's error is dropped


def _split_changes(text: str) -> Iterator[tuple[str, str, str]]:
    """
    Split a ``snapshot_changes`` string into ``(store id, times, statuses)``.
    """
    position = 0
    while position < len(text):
        a = text.index(":", position)
        b = text.index(":", a + 1)
        c = text.index(":", b + 1)
        id_length, times_length = int(text[position:a]), int(text[a + 1 : b])
        start = c + 1
        times_at = start + id_length
        statuses_at = times_at + times_length
        position = statuses_at + int(text[b + 1 : c])
        yield (
            text[start:times_at],
            text[times_at:statuses_at],
            text[statuses_at:position],
        )


def _kept(times: str, statuses: str) -> tuple[list[int], list[bool]]:
    bias, width = _FIXED_WIDTH_BIAS, _FIXED_WIDTH
    kept = kept_polls(statuses)
    return (
        [int(times[width * index : width * index + width]) - bias for index in kept],
        [statuses[index] == "1" for index in kept],
    )


class SQLiteRepository:
    """
    The repository protocols over one SQLite file; an async context manager.
    """

    def __init__(self, path: str, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._in_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar(
            f"storemon-sqlite-tx-{id(self)}", default=False
        )

    def __repr__(self) -> str:
        return f"SQLiteRepository({self.path!r})"

    # Lifecycle

    async def __aenter__(self) -> SQLiteRepository:
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
        Connect, switch to WAL, and bring the schema up to date.

        Raises:
            StorageError: the file cannot be opened, is not a database, or has a newer
                schema than this code knows.
        """
        try:
            self._writer = await self._connect()
            # The writer's temporary tables (the staged business hours) and sorts live in
            # a temporary file behind a small cache, so an ingest's memory does not grow
            # with the file; readers keep MEMORY, they never stage anything.
            await self._writer.execute("PRAGMA temp_store = FILE")
            await self._retry_locked("switch to WAL", self._enable_wal)
            await self._retry_locked("migrate the schema", self._migrate)
            self._reader = await self._connect()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """
        Close the connections; safe to call twice.
        """
        for connection in (self._reader, self._writer):
            if connection is not None:
                with translate_errors(f"close {self.path}"):
                    await connection.close()
        self._reader = self._writer = None

    async def _connect(self) -> aiosqlite.Connection:
        with translate_errors(f"open {self.path}"):
            pending = aiosqlite.connect(
                self.path, timeout=self.busy_timeout_s, isolation_level=None
            )
            try:
                connection = await pending
            except BaseException:
                # aiosqlite stops its worker thread without waiting; wait here, or the
                # thread may answer after the event loop has closed.
                worker = getattr(pending, "_thread", None)
                if worker is not None and worker.is_alive():
                    await asyncio.to_thread(worker.join, self.busy_timeout_s)
                raise
            try:
                await connection.execute("PRAGMA synchronous = NORMAL")
                await connection.execute("PRAGMA temp_store = MEMORY")
                # 24 MiB: 32 cost an ingest 9 MB more for no measurable speed, 16 was 5% slower.
                await connection.execute("PRAGMA cache_size = -24576")
            except BaseException:
                await connection.close()
                raise
        return connection

    async def _enable_wal(self) -> None:
        row = await (await self._db.execute("PRAGMA journal_mode = WAL")).fetchone()
        if row is None or str(row[0]).lower() != "wal":
            raise StorageError(f"{self.path}: SQLite refused WAL mode (journal mode {row})")

    async def _schema_version(self) -> int:
        row = await (await self._db.execute("PRAGMA user_version")).fetchone()
        version = int(row[0]) if row else 0
        latest = schema_version()
        if version > latest:
            raise StorageError(
                f"{self.path}: the database has schema version {version}, newer than "
                f"this storemon knows ({latest}); upgrade storemon"
            )
        return version

    async def _migrate(self) -> None:
        # Up to date (the usual case): no write lock, so opening never waits for an
        # ingest in another process. Otherwise take the lock and look again: another
        # process may have migrated in the meantime.
        if await self._schema_version() == schema_version():
            return
        db = self._db
        await db.execute("BEGIN IMMEDIATE")
        try:
            version = await self._schema_version()
            for number, _name, script in migrations()[version:]:
                for statement in split_statements(script):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {number:d}")
            await db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                await db.execute("ROLLBACK")
            raise

    async def _retry_locked(self, action: str, operation: Any) -> Any:
        for attempt in range(LOCKED_RETRIES):
            try:
                with translate_errors(f"{action} in {self.path}"):
                    return await operation()
            except StorageError as error:
                cause = error.__cause__
                locked = isinstance(cause, sqlite3.Error) and _is_locked(cause)
                if not locked or attempt == LOCKED_RETRIES - 1:
                    raise
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def _db(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise StorageError(f"{self!r} is not open; use 'async with'")
        return self._writer

    @property
    def _read_db(self) -> aiosqlite.Connection:
        """
        The writer inside this task's transaction (to see its own writes), else the reader.
        """
        if self._in_transaction.get():
            return self._db
        if self._reader is None:
            raise StorageError(f"{self!r} is not open; use 'async with'")
        return self._reader

    async def _fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        with translate_errors("read"):
            return list(await self._read_db.execute_fetchall(sql, parameters))

    # IngestStore

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """
        One write transaction (``BEGIN IMMEDIATE``) for this task; nested blocks join it.
        """
        if self._in_transaction.get():
            yield
            return
        async with self._write_lock:
            db = self._db
            await self._retry_locked("begin a write", lambda: db.execute("BEGIN IMMEDIATE"))
            token = self._in_transaction.set(True)
            try:
                yield
            except BaseException:
                if db.in_transaction:
                    with translate_errors("roll back"):
                        await db.execute("ROLLBACK")
                raise
            else:
                with translate_errors("commit"):
                    await db.execute("COMMIT")
            finally:
                self._in_transaction.reset(token)

    async def source_state(self, kind: str, source: str) -> SourceState | None:
        rows = await self._fetchall(queries()["get_source_state"], (kind, source))
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
            with translate_errors("save the source state"):
                await self._db.execute(
                    queries()["save_source_state"],
                    (
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
                    ),
                )

    async def add_rejects(self, rejects: Iterable[Rejected], *, ingested_at: dt.datetime) -> int:
        at_us = to_epoch_us(ingested_at)
        rows = [
            (item.source, item.line, item.column, item.reason, item.text, at_us) for item in rejects
        ]
        async with self.transaction():
            with translate_errors("keep rejected rows"):
                await self._db.executemany(queries()["insert_reject"], rows)
        return len(rows)

    async def clear_rejects(self, source: str) -> None:
        async with self.transaction():
            with translate_errors("clear rejected rows"):
                await self._db.execute(queries()["clear_rejects"], (source,))

    async def rejects(self, source: str | None = None) -> list[Rejected]:
        if source is None:
            rows = await self._fetchall(queries()["all_rejects"])
        else:
            rows = await self._fetchall(queries()["source_rejects"], (source,))
        return [Rejected(*row) for row in rows]

    # PollSink

    async def add_polls(self, polls: Iterable[PollRecord]) -> int:
        """
        Upsert polls in batches inside one transaction; return rows new or changed.

        Batches are pulled from ``polls`` (parsing, for an ingest) in a worker thread and
        stored in file order. Alternatives measured on 1.8M rows and dropped: sorting each
        batch by key and staging rows in a temporary table merged by one sorted
        ``INSERT ... SELECT`` (both cost more CPU), and parsing the next batch while
        SQLite stores the current one (no faster: both need the GIL for every row).
        """
        sql = queries()["upsert_poll"]
        rows = iter(polls)
        changed = 0
        async with self.transaction():
            while batch := await asyncio.to_thread(_take, rows, BATCH_ROWS):
                with translate_errors("store polls"):
                    cursor = await self._db.executemany(sql, batch)
                    changed += cursor.rowcount
                    await cursor.close()
        return changed

    # MetadataSink

    async def replace_hours(self, rows: Iterable[HoursRecord]) -> None:
        values = [(store_id, row.day, row.start_us, row.end_us) for store_id, row in rows]
        async with self.transaction():
            with translate_errors("replace business hours"):
                await self._db.execute(queries()["delete_hours"])
                await self._db.executemany(queries()["insert_hours"], values)

    async def replace_hours_counted(self, rows: Iterable[HoursRecord]) -> int:
        """
        Stage the rows in a temporary table (pulled in batches, parsing in a worker
        thread), count the new ones and replace the table, all in SQL.
        """
        values = ((store_id, row.day, row.start_us, row.end_us) for store_id, row in rows)
        async with self.transaction():
            db = self._db
            with translate_errors("replace business hours"):
                await db.execute(queries()["create_hours_stage"])
                await db.execute(queries()["clear_hours_stage"])
                while batch := await asyncio.to_thread(_take, values, BATCH_ROWS):
                    await db.executemany(queries()["stage_hours"], batch)
                found = await (await db.execute(queries()["count_new_hours"])).fetchone()
                await db.execute(queries()["delete_hours"])
                await db.execute(queries()["merge_hours_stage"])
                await db.execute(queries()["clear_hours_stage"])
        return int(found[0]) if found else 0

    async def replace_zones(self, rows: Iterable[ZoneRecord]) -> None:
        values = list(rows)
        async with self.transaction():
            with translate_errors("replace time zones"):
                await self._db.execute(queries()["delete_zones"])
                await self._db.executemany(queries()["insert_zone"], values)

    # MetadataSource

    async def hours_rows(self) -> list[HoursRecord]:
        rows = await self._fetchall(queries()["snapshot_hours"])
        made: dict[tuple[int, int, int], HoursRow] = {}
        return [
            (store_id, _shared_row(made, day, start, end)) for store_id, day, start, end in rows
        ]

    async def zone_rows(self) -> list[ZoneRecord]:
        return [
            (store_id, zone_key)
            for store_id, zone_key in await self._fetchall(queries()["snapshot_zones"])
        ]

    # StoreSource

    async def latest_poll_at(self) -> dt.datetime | None:
        rows = await self._fetchall(queries()["latest_poll"])
        latest = rows[0][0] if rows else None
        return None if latest is None else from_epoch_us(latest)

    async def snapshots(
        self, *, since: dt.datetime, as_of: dt.datetime
    ) -> AsyncIterator[StoreSnapshot]:
        """
        Stream stores in store-id order from one read transaction on its own connection.
        """
        async for snapshot in self._snapshots(since=since, as_of=as_of, thin=False):
            yield snapshot

    async def report_snapshots(
        self, *, since: dt.datetime, as_of: dt.datetime
    ) -> AsyncIterator[StoreSnapshot]:
        """
        Like ``snapshots``, but each holds only the polls that decide its numbers
        (``storemon.uptime.kept_polls``): one row per store comes from SQLite.
        """
        async for snapshot in self._snapshots(since=since, as_of=as_of, thin=True):
            yield snapshot

    async def _snapshots(
        self, *, since: dt.datetime, as_of: dt.datetime, thin: bool
    ) -> AsyncIterator[StoreSnapshot]:
        bounds = {"since": to_epoch_us(since), "as_of": to_epoch_us(as_of)}
        connection = await self._connect()
        streams: list[AsyncGenerator[Any, None]] = []
        try:
            with translate_errors("read the report's snapshot"):
                await connection.execute("BEGIN")
                if thin:
                    polls = _thinned(connection, bounds)
                else:
                    polls = _polls(
                        _grouped(
                            await connection.execute(queries()["snapshot_polls"], bounds),
                            BATCH_ROWS,
                        )
                    )
                hours = _grouped(await connection.execute(queries()["snapshot_hours"]), BATCH_ROWS)
                zones = _grouped(await connection.execute(queries()["snapshot_zones"]), BATCH_ROWS)
                streams += [polls, hours, zones]
            made: dict[tuple[int, int, int], HoursRow] = {}
            hours_next = await anext(hours, None)
            zones_next = await anext(zones, None)
            while True:
                with translate_errors("read the report's snapshot"):
                    item = await anext(polls, None)
                    if item is None:
                        break
                    store_id, poll_at_us, poll_active = item
                    while hours_next is not None and hours_next[0] < store_id:
                        hours_next = await anext(hours, None)
                    while zones_next is not None and zones_next[0] < store_id:
                        zones_next = await anext(zones, None)
                store_hours: list[HoursRow] = []
                if hours_next is not None and hours_next[0] == store_id:
                    for _, day, start, end in hours_next[1]:
                        store_hours.append(_shared_row(made, day, start, end))
                zone_key = (
                    zones_next[1][0][1]
                    if zones_next is not None and zones_next[0] == store_id
                    else None
                )
                yield StoreSnapshot(
                    store_id=store_id,
                    zone_key=zone_key,
                    hours=tuple(store_hours),
                    poll_at_us=poll_at_us,
                    poll_active=poll_active,
                )
        finally:
            for stream in streams:
                with contextlib.suppress(sqlite3.Error):
                    await stream.aclose()
            with contextlib.suppress(sqlite3.Error):
                if connection.in_transaction:
                    await connection.execute("ROLLBACK")
            with translate_errors("close the snapshot connection"):
                await connection.close()

    # StoreLookup

    async def snapshot(
        self, store_id: str, *, since: dt.datetime, as_of: dt.datetime
    ) -> StoreSnapshot | None:
        """
        Read one store from one read transaction on its own connection, like ``snapshots``.
        """
        bounds = {"store_id": store_id, "since": to_epoch_us(since), "as_of": to_epoch_us(as_of)}
        connection = await self._connect()
        try:
            with translate_errors("read a store's snapshot"):
                await connection.execute("BEGIN")
                polls = list(await connection.execute_fetchall(queries()["store_polls"], bounds))
                hours = await connection.execute_fetchall(queries()["store_hours"], (store_id,))
                zones = list(
                    await connection.execute_fetchall(queries()["store_zone"], (store_id,))
                )
        finally:
            with contextlib.suppress(sqlite3.Error):
                if connection.in_transaction:
                    await connection.execute("ROLLBACK")
            with translate_errors("close the snapshot connection"):
                await connection.close()
        if not polls:
            return None
        return StoreSnapshot(
            store_id=store_id,
            zone_key=zones[0][0] if zones else None,
            hours=tuple(hours_row(day, start, end) for day, start, end in hours),
            poll_at_us=[row[0] for row in polls],
            poll_active=[row[1] == 1 for row in polls],
        )

    # ReportStore

    async def _update_report(self, name: str, parameters: Sequence[Any], report_id: str) -> None:
        async with self.transaction():
            with translate_errors("update a report"):
                cursor = await self._db.execute(queries()[name], parameters)
                found = cursor.rowcount
                await cursor.close()
        if not found:
            raise ReportNotFound(f"no report has id {report_id!r}")

    async def create_report(
        self, report_id: str, *, as_of: dt.datetime | None, created_at: dt.datetime
    ) -> ReportJob:
        as_of_us = None if as_of is None else to_epoch_us(as_of)
        created_us = to_epoch_us(created_at)
        async with self.transaction():
            with translate_errors("create a report"):
                await self._db.execute(
                    queries()["create_report"],
                    (report_id, ReportStatus.PENDING, as_of_us, created_us),
                )
        return _job((report_id, ReportStatus.PENDING, as_of_us, created_us, None, None, None))

    async def start_report(self, report_id: str) -> None:
        await self._update_report("start_report", (ReportStatus.RUNNING, report_id), report_id)

    async def finish_report(self, report_id: str, *, csv: str, finished_at: dt.datetime) -> None:
        await self._update_report(
            "finish_report",
            (ReportStatus.COMPLETE, csv, to_epoch_us(finished_at), report_id),
            report_id,
        )

    async def fail_report(self, report_id: str, *, error: str, finished_at: dt.datetime) -> None:
        await self._update_report(
            "fail_report",
            (ReportStatus.FAILED, error, to_epoch_us(finished_at), report_id),
            report_id,
        )

    async def get_report(self, report_id: str) -> ReportJob:
        rows = await self._fetchall(queries()["get_report"], (report_id,))
        if not rows:
            raise ReportNotFound(f"no report has id {report_id!r}")
        return _job(rows[0])

    async def unfinished_reports(self) -> list[ReportJob]:
        rows = await self._fetchall(
            queries()["unfinished_reports"], (ReportStatus.PENDING, ReportStatus.RUNNING)
        )
        return [_job(row) for row in rows]
