"""
The SQLite backend (aiosqlite): the embedded default, ``sqlite:///PATH``.

Shape of the database (``sql/sqlite/migrations/*.sql``): ``polls`` keyed by (store id,
instant) WITHOUT ROWID so that one store's polls sit together in time order, which is
the order the report reads them in; ``hours`` and ``zones`` (snapshot tables, replaced
whole); ``reports``, which is also the server's job queue (leases from schema version
3); ``rejects`` and ``source_state`` (version 2); ``schedule`` (version 3).

Connections: one writer, used by every write inside ``transaction()`` (``BEGIN
IMMEDIATE``, so a writer never has to upgrade a read lock and fail with "database is
locked"); writers of this process take turns on an ``asyncio.Lock``, writers of other
processes wait in SQLite's busy handler (``busy_timeout``) and are retried. One reader
for small reads, and a fresh connection for each ``snapshots()`` stream, which holds one
read transaction: in WAL mode it sees one consistent state of the data while an ingest
commits beside it. ``snapshots`` sends only the polls that decide the numbers (``_thinned``).

Polls are staged in the writer's temporary table outside any transaction (no lock on the
database), then merged in key order in one short write transaction (``stage_polls``).

A claim is ``UPDATE ... RETURNING`` in a write transaction, after a read without a lock
found something to claim, so idle workers never take the write lock.

Every driver exception leaves this module as ``StorageError`` (``translate_errors``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import itertools
import operator
import os
import sqlite3
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import aiosqlite

from storemon import model
from storemon.errors import DatabaseNotFound, StorageBusy, StorageError
from storemon.model import to_epoch_us
from storemon.repository import REQUEST_WAIT
from storemon.storage import columns, polldays
from storemon.storage.lifecycle import Lifecycle
from storemon.storage.sqlfiles import SqlFiles
from storemon.storage.wake import WorkSignal

#: Rows per ``executemany`` when storing polls, and per
#: ``fetchmany`` when reading them: large enough to amortise the thread hops, small
#: enough to keep memory flat.
BATCH_ROWS = 50_000

#: Day rows per ``executemany`` and ``fetchmany`` of a stage: a day row holds a day of
#: a store's polls (about 400 bytes for 24 polls), so fewer rows than ``BATCH_ROWS``
#: keep memory flat.
DAY_BATCH_ROWS = 10_000

#: Store rows of a stage per ``executemany`` and ``fetchmany``: one holds all of a
#: store's polls in one flush (a week of hourly polls is about 2 KB).
STORE_BATCH_ROWS = 1_000

#: Polls a stage gathers in Python before it writes them to its temporary table as day
#: rows (9 bytes each: about 27 MB). A week of the full-size fleet (1.8M polls) is one
#: piece per day row, which the merge then writes as it is.
STAGE_FLUSH_POLLS = 3_000_000

#: How long a writer waits for another process's write lock before SQLite gives up.
BUSY_TIMEOUT_S = 30.0

#: How often a write that still found the database locked is tried again.
LOCKED_RETRIES = 5

#: How long a write a request waits for (a trigger's new job) may wait for the write
#: lock, held by this process's other writers or by another process's ingest, before
#: it gives up with ``StorageBusy``: an HTTP answer never waits on an ingest.
REQUEST_WAIT_S = REQUEST_WAIT.total_seconds()

#: The SQL of this backend: ``sql/sqlite/queries.sql`` and ``sql/sqlite/migrations``.
SQL = SqlFiles("sqlite")

_Row = TypeVar("_Row")


@contextlib.contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """
    Turn a driver exception into ``StorageError`` saying what was being done.
    """
    try:
        yield
    except sqlite3.Error as error:
        raise StorageError(f"SQLite: {action}: {error}") from error


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


def _take(rows: Iterator[_Row], size: int) -> list[_Row]:
    # The next batch, in order.
    return list(itertools.islice(rows, size))


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


#: Stores per ``snapshot_changes`` query: its one string holds all of their polls.
CHANGE_STORES = 500


#: What ``_thinned`` yields per store: its id, kept instants and statuses, the gaps
#: among them (``StoreSnapshot.gap_after``; ``None``: every poll was sent), and why its
#: stored polls cannot be read (``StoreSnapshot.problem``; ``None`` when they can).
_StorePolls = tuple[str, list[int], list[bool], tuple[int, ...] | None, str | None]


def _bounds(since_us: int, as_of_us: int) -> dict[str, int]:
    """
    The parameters of the snapshot queries: the report's range and its UTC days.
    """
    return {
        "since": since_us,
        "as_of": as_of_us,
        "since_day": since_us // polldays.DAY_US,
        "as_of_day": as_of_us // polldays.DAY_US,
    }


async def _thinned(
    connection: aiosqlite.Connection,
    bounds: dict[str, int],
    max_gap_us: int | None = None,
    stores: model.StoreRange | None = None,
) -> AsyncGenerator[_StorePolls, None]:
    """
    Yield ``(store id, instants, statuses, gap_after)`` of the polls that decide each
    store's numbers, in store-id order, from ``snapshot_changes`` run on ranges of
    ``CHANGE_STORES`` stores (of ``stores`` only, when given): ``kept_polls``, or
    ``kept_polls_with_gaps`` when the report has a maximum gap ``max_gap_us``.

    While this thread turns one range into snapshots (and the engine runs on them), SQLite
    builds the next range's string in aiosqlite's thread. That is one step of C code
    without the GIL, so the two overlap on two cores (a query with a row per store would
    need the GIL back for every row, and wait for it while this thread computes).
    """
    ids = [
        row[0]
        for row in await connection.execute_fetchall(
            SQL.queries["store_ids"], columns.range_values(stores)
        )
    ]
    ranges = [
        (ids[start], ids[min(start + CHANGE_STORES, len(ids)) - 1])
        for start in range(0, len(ids), CHANGE_STORES)
    ]
    del ids

    query = SQL.queries["snapshot_changes"]

    async def fetch(first: str, last: str) -> str | None:
        cursor = await connection.execute(query, {**bounds, "first": first, "last": last})
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
            after: str | None = None  # the last store of the range yielded
            for store_id, times, statuses in _split_changes(text, first, last):
                if store_id is None:
                    # The string cannot be read on from here: SQLite measures a store id
                    # with a NUL (stored by an older version) up to the NUL only. Read
                    # the rest of the range store by store, in the same transaction.
                    for rest in await connection.execute_fetchall(
                        SQL.queries["store_ids_between"],
                        {"first": first, "after": after, "last": last},
                    ):
                        yield await _store_polls(connection, bounds, rest[0])
                    break
                after = store_id
                try:
                    kept = polldays.kept(
                        times, statuses, bounds["since"], bounds["as_of"], max_gap_us
                    )
                except ValueError:
                    # Not what this version stores: read this store's days one by one,
                    # in the same read transaction, which says what is wrong.
                    yield await _store_polls(connection, bounds, store_id)
                    continue
                if kept is not None:
                    yield store_id, *kept, None
    finally:
        if following is not None and not following.done():
            following.cancel()
            await asyncio.wait([following])  # never raises; the task's error is dropped


async def _store_polls(
    connection: aiosqlite.Connection, bounds: dict[str, int], store_id: str
) -> _StorePolls:
    """
    One store's polls as ``_thinned`` yields them, read day by day (every poll).
    """
    rows = await connection.execute_fetchall(
        SQL.queries["store_polls"], {**bounds, "store_id": store_id}
    )
    try:
        days = [(times, statuses) for times, statuses in rows]
        instants, active = polldays.polls_of(days, bounds["since"], bounds["as_of"])
    except ValueError as error:  # a row no version of storemon writes: leave the store out
        return store_id, [], [], None, f"its stored polls cannot be read: {error}"
    return store_id, instants, active, None, None


def _split_changes(
    text: str, first: str, last: str
) -> Iterator[tuple[str, str, str] | tuple[None, str, str]]:
    """
    Split a ``snapshot_changes`` string of the stores ``first`` to ``last`` into
    ``(store id, times, statuses)``; ``(None, "", "")`` where it cannot be read on (a
    length that does not fit, a store out of order or out of the range, a status that is
    not 0 or 1), after which it yields nothing more.
    """
    position = 0
    previous: str | None = None
    while position < len(text):
        try:
            a = text.index(":", position)
            b = text.index(":", a + 1)
            c = text.index(":", b + 1)
            id_length, times_length = int(text[position:a]), int(text[a + 1 : b])
            statuses_length = int(text[b + 1 : c])
        except ValueError:
            yield None, "", ""
            return
        start = c + 1
        times_at = start + id_length
        statuses_at = times_at + times_length
        position = statuses_at + statuses_length
        store_id = text[start:times_at]
        times, statuses = text[times_at:statuses_at], text[statuses_at:position]
        if (
            position > len(text)
            or not first <= store_id <= last
            or (previous is not None and store_id <= previous)
            # The times are checked where they are read (``polldays.window``):
            # ``bytes.fromhex`` refuses what is not hexadecimal at no extra pass.
            or statuses.strip("01")
        ):
            yield None, "", ""
            return
        previous = store_id
        yield store_id, times, statuses


class _PollStage:
    """
    Polls gathered by store in Python (``polldays.PollBuffer``), staged a row per store
    in a temporary table of the writer connection whenever ``STAGE_FLUSH_POLLS`` are
    gathered, then merged with the stored days in one write transaction.
    """

    def __init__(self, repository: SQLiteRepository, number: int) -> None:
        self._repository = repository
        self._buffer = polldays.PollBuffer()
        #: Flushes of the buffer so far: the piece number of the next one.
        self._pieces = 0
        #: The first and last day of the staged polls.
        self._first_day: int | None = None
        self._last_day: int | None = None
        #: Staged rows whose polls are all of one day (what ``_append`` may merge).
        self._one_day_rows = 0
        #: This stage's statements, on its own table.
        self._sql = {
            name: SQL.queries[name].format(table=f"stage_polls_{number:d}")
            for name in (
                "create_poll_stage",
                "stage_poll_store",
                "staged_poll_stores",
                "clear_poll_stage",
                "drop_poll_stage",
                "count_poll_stage",
                "mark_poll_appends",
                "count_poll_appends",
                "append_poll_days",
                "insert_new_poll_days",
                "unstage_poll_appends",
            )
        }

    async def create(self) -> None:
        await self._run("make a stage for polls", "create_poll_stage")

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
        Write the buffer's polls to the stage, a row per store, as a new piece, a batch at
        a time (the rows are made in the worker thread as the batches are taken).
        """
        if not self._buffer.size:
            return
        piece = self._pieces
        self._pieces += 1
        await self._stage_rows(self._rows_of(piece, self._buffer.drain_stores()))

    async def _stage_rows(self, rows: Iterator[tuple[Any, ...]]) -> None:
        # A batch at a time, made in a worker thread (_rows_of); other writers take turns.
        while batch := await asyncio.to_thread(_take, rows, STORE_BATCH_ROWS):
            async with self._repository._turn():
                with translate_errors("stage polls"):
                    await self._repository._db.executemany(self._sql["stage_poll_store"], batch)

    def _rows_of(
        self, piece: int, stores: Iterable[polldays.StagedStore]
    ) -> Iterator[tuple[Any, ...]]:
        # The stage's rows of one piece, with the day of all of a store's polls (None when
        # they span days) and its first and last instants, for the append in SQL; note
        # the first and last day of the staged polls as they pass.
        for store_id, times, statuses, distinct in stores:
            first_us = polldays.first_instant(times)
            last_us = first_us if len(statuses) == 1 else polldays.last_instant(times)
            first = first_us // polldays.DAY_US
            last = last_us // polldays.DAY_US
            if self._first_day is None or first < self._first_day:
                self._first_day = first
            if self._last_day is None or last > self._last_day:
                self._last_day = last
            day = None
            if first == last:
                day = first
                self._one_day_rows += 1
            yield store_id, piece, times, statuses, distinct, day, first_us, last_us

    async def merge(self) -> int:
        """
        Merge the staged stores with their stored days (``polldays.merge_store``) in one
        write transaction; return the rows new or changed. The stores whose polls only
        lengthen a stored day or start a new one are merged in SQL first (``_append``):
        an hourly append is then a few statements, not every store's day read into Python
        and written back.
        """
        appends = polldays.APPEND_POLLS_PER_STORE * self._buffer.stores
        if self._pieces == 0 and self._buffer.size > appends:
            return await self._merge_buffer()
        if self._pieces == 0 and self._buffer.size:
            appended = await self._append_from_buffer()
            if appended is not None:
                return appended
        await self._flush()
        if self._first_day is None:
            return 0
        repository = self._repository
        bounds = {"first_day": self._first_day, "last_day": self._last_day}
        changed = 0
        async with repository.transaction():
            db = repository._db
            with translate_errors("store polls"):
                if self._pieces == 1 and self._one_day_rows:
                    changed += await self._append()
                    [[left]] = await db.execute_fetchall(self._sql["count_poll_stage"])
                    if not left:
                        return changed
                staged = _by_store(
                    await db.execute(self._sql["staged_poll_stores"]), STORE_BATCH_ROWS
                )

                async def pieces() -> AsyncIterator[tuple[str, list[polldays.Piece]]]:
                    while rows := await staged.next_store():
                        yield rows[0][0], [(t, s, bool(once)) for _, t, s, once in rows]

                changed += await _merge_stores(db, pieces(), bounds)
                await db.execute(self._sql["clear_poll_stage"])
        return changed

    async def _append_from_buffer(self) -> int | None:
        """
        ``merge`` of a stage never flushed whose stores' polls are each once and all of
        one day (an hourly append): each store's row is written or lengthened by one
        statement (``upsert_poll_append``), as ``_append`` would, without the stage; return
        the polls added. ``None`` when a store's polls are not so, or a stored row does
        not take them: then nothing was written, and the rows are the stage's first piece.
        """
        rows = await asyncio.to_thread(list, self._rows_of(0, self._buffer.drain_stores()))
        self._pieces = 1
        values = []
        for store_id, _piece, times, statuses, distinct, day, first_us, last_us in rows:
            if not distinct or day is None:
                break
            values.append((store_id, day, times, statuses, last_us, first_us))
        else:
            async with self._repository.transaction():
                db = self._repository._db
                with translate_errors("store polls"):
                    await db.execute("SAVEPOINT storemon_append")
                    cursor = await db.executemany(SQL.queries["upsert_poll_append"], values)
                    if cursor.rowcount == len(values):
                        await db.execute("RELEASE storemon_append")
                        return sum(len(statuses) for _, _, _, statuses, *_ in values)
                    await db.execute("ROLLBACK TO storemon_append")
                    await db.execute("RELEASE storemon_append")
        await self._stage_rows(iter(rows))
        return None

    async def _merge_buffer(self) -> int:
        """
        ``merge`` of a stage never flushed, straight from the buffer: a file's worth of
        polls (a first ingest, a re-export) is not written to the stage and read back
        first. The buffer is drained inside the write transaction, a batch of stores at a
        time in a worker thread; an append (a few polls a store) is flushed instead, for
        ``_append`` to merge in SQL.
        """
        days = self._buffer.day_span()
        if days is None:
            return 0
        bounds: dict[str, int | None] = {"first_day": days[0], "last_day": days[1]}
        drained = self._buffer.drain_stores()

        async def pieces() -> AsyncIterator[tuple[str, list[polldays.Piece]]]:
            while batch := await asyncio.to_thread(_take, drained, STORE_BATCH_ROWS):
                for store_id, times, statuses, distinct in batch:
                    yield store_id, [(times, statuses, distinct)]

        async with self._repository.transaction():
            with translate_errors("store polls"):
                return await _merge_stores(self._repository._db, pieces(), bounds)

    async def _append(self) -> int:
        """
        Merge in SQL the staged stores whose polls, each once and all of one day, come
        after the store's last one that day (an hourly append: the stored row is
        lengthened) or fall on a day it has no row of (an hour past midnight: the row is
        written as it is), as ``polldays.merge_store`` would, the same rows and count; take
        those stores off the stage and return the polls added. Only when the stage is one
        piece: a row per store.
        """
        db = self._repository._db
        await db.execute(self._sql["mark_poll_appends"])
        [[added]] = await db.execute_fetchall(self._sql["count_poll_appends"])
        if added:
            await db.execute(self._sql["append_poll_days"])
            await db.execute(self._sql["insert_new_poll_days"])
            await db.execute(self._sql["unstage_poll_appends"])
        return int(added)

    async def drop(self) -> None:
        if self._repository._writer is not None:  # closed: its temporary tables went too
            await self._run("drop a stage of polls", "drop_poll_stage")

    async def _run(self, action: str, name: str) -> None:
        async with self._repository._turn():
            with translate_errors(action):
                await self._repository._db.execute(self._sql[name])


async def _merge_stores(
    db: aiosqlite.Connection,
    pieces: AsyncIterator[tuple[str, list[polldays.Piece]]],
    bounds: dict[str, int | None],
) -> int:
    """
    Merge each store's staged pieces, in store-id order, with its stored days between
    ``bounds`` (``polldays.merge_store``), writing the days it changes; return the rows
    new or changed.
    """
    stored = _by_store(await db.execute(SQL.queries["stored_poll_days"], bounds), DAY_BATCH_ROWS)
    changed = 0
    writes: list[polldays.StoredDay] = []
    async for store_id, store_pieces in pieces:
        days = {day: (t, s, last) for _, day, t, s, last in await stored.of(store_id)}
        count, rows = polldays.merge_store(days, store_pieces)
        changed += count
        writes += [(store_id, *row) for row in rows]
        if len(writes) >= DAY_BATCH_ROWS:
            await db.executemany(SQL.queries["write_poll_day"], writes)
            writes = []
    await db.executemany(SQL.queries["write_poll_day"], writes)
    return changed


def _by_store(cursor: aiosqlite.Cursor, size: int) -> columns.ByStore:
    """
    The rows of ``cursor``, ordered by store id, handed out store by store.
    """

    async def fetch() -> list[Any]:
        return list(await cursor.fetchmany(size))

    return columns.ByStore(fetch)


class SQLiteRepository(Lifecycle):
    """
    The repository protocols over one SQLite file; an async context manager.
    """

    def __init__(
        self, path: str, *, busy_timeout_s: float = BUSY_TIMEOUT_S, create: bool = True
    ) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        #: Create the file when it is missing; ``False`` refuses a missing file, or one
        #: without storemon's tables, and never creates one (``mode=rw``).
        self.create = create
        # Without ``create``, the file is opened by URI with mode=rw, which never creates
        # it, even if it disappears after the check in ``open``.
        self._target = path
        if not create:
            self._target = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=rw"
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        #: Wakes ``wait_for_work`` when this process queues work; other processes on the
        #: file cannot wake it (SQLite has no notifications): callers look every second.
        self._work = WorkSignal()
        #: Numbers of the poll stages (``stage_polls``), one per stage.
        self._stages = itertools.count(1)
        self._in_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar(
            f"storemon-sqlite-tx-{id(self)}", default=False
        )

    def __repr__(self) -> str:
        return f"SQLiteRepository({self.path!r})"

    # Lifecycle

    async def open(self) -> None:
        """
        Connect, switch to WAL, and bring the schema up to date.

        Raises:
            DatabaseNotFound: ``create`` is false and the file is missing or has no
                storemon tables.
            StorageError: the file cannot be opened, is not a database, or has a newer
                schema than this code knows.
        """
        if not self.create and not await asyncio.to_thread(os.path.isfile, self.path):
            raise DatabaseNotFound(f"{self.path}: no such database file (nothing was created)")
        try:
            self._writer = await self._connect()
            if not self.create and not await self._has_tables():
                raise DatabaseNotFound(
                    f"{self.path}: not a storemon database (it has none of its tables)"
                )
            # The writer's temporary tables (staged hours and zones) and sorts live in
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
                self._target, timeout=self.busy_timeout_s, isolation_level=None, uri=not self.create
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

    async def _has_tables(self) -> bool:
        """
        Whether the file holds storemon's tables, after waiting for a process that is
        creating them right now (it holds the write lock until its migration commits).
        """
        if await self._schema_version() > 0:
            return True
        db = self._db
        with translate_errors(f"read the schema of {self.path}"):
            await db.execute("BEGIN IMMEDIATE")
            try:
                return await self._schema_version() > 0
            finally:
                await db.execute("ROLLBACK")

    async def _enable_wal(self) -> None:
        row = await (await self._db.execute("PRAGMA journal_mode = WAL")).fetchone()
        if row is None or str(row[0]).lower() != "wal":
            raise StorageError(f"{self.path}: SQLite refused WAL mode (journal mode {row})")

    async def _schema_version(self) -> int:
        row = await (await self._db.execute("PRAGMA user_version")).fetchone()
        version = int(row[0]) if row else 0
        latest = SQL.version
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
        if await self._schema_version() == SQL.version:
            return
        db = self._db
        await db.execute("BEGIN IMMEDIATE")
        try:
            version = await self._schema_version()
            for migration in SQL.migrations[version:]:
                for statement in split_statements(migration.script):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {migration.version:d}")
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

    async def _fetchall(self, name: str, parameters: Any = ()) -> list[Any]:
        with translate_errors("read"):
            return list(await self._read_db.execute_fetchall(SQL.queries[name], parameters))

    async def _write(self, action: str, name: str, parameters: Any) -> tuple[list[Any], int]:
        """
        Run one statement in a write transaction; return the rows it returns
        (``RETURNING``) and how many rows it changed.
        """
        async with self.transaction():
            with translate_errors(action):
                cursor = await self._db.execute(SQL.queries[name], parameters)
                returned = list(await cursor.fetchall())
                changed = cursor.rowcount
                await cursor.close()
        return returned, changed

    async def _changed(self, action: str, name: str, parameters: Any) -> int:
        _, changed = await self._write(action, name, parameters)
        return changed

    async def ping(self) -> None:
        await self._fetchall("ping")

    # IngestStore

    def transaction(
        self, *, wait: dt.timedelta | None = None
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """
        One write transaction (``BEGIN IMMEDIATE``) for this task; nested blocks join it.
        With ``wait``, ``StorageBusy`` when the write lock is not had within it.
        """
        return self._transaction(wait_s=None if wait is None else wait.total_seconds())

    @contextlib.asynccontextmanager
    async def _transaction(self, *, wait_s: float | None = None) -> AsyncIterator[None]:
        """
        ``transaction()``; with ``wait_s``, waiting at most that long for the write lock
        (this process's writers, then another process's) and raising ``StorageBusy``
        after, instead of waiting up to ``busy_timeout_s`` and retrying.
        """
        if self._in_transaction.get():
            yield
            return
        if wait_s is None:
            await self._write_lock.acquire()
        else:
            try:
                async with asyncio.timeout(wait_s):
                    await self._write_lock.acquire()
            except TimeoutError:
                raise StorageBusy(f"SQLite: {self.path} is busy with another write") from None
        try:
            db = self._db
            if wait_s is None:
                await self._retry_locked("begin a write", lambda: db.execute("BEGIN IMMEDIATE"))
            else:
                await self._begin_within(db, wait_s)
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
        finally:
            self._write_lock.release()

    async def _begin_within(self, db: aiosqlite.Connection, wait_s: float) -> None:
        """
        ``BEGIN IMMEDIATE``, letting SQLite's busy handler wait at most ``wait_s``.

        Raises:
            StorageBusy: another process held the write lock all that time.
        """
        with translate_errors("set the busy timeout"):
            await db.execute(f"PRAGMA busy_timeout = {max(int(wait_s * 1000), 1):d}")
        try:
            with translate_errors("begin a write"):
                await db.execute("BEGIN IMMEDIATE")
        except StorageError as error:
            cause = error.__cause__
            if isinstance(cause, sqlite3.Error) and _is_locked(cause):
                raise StorageBusy(
                    f"SQLite: {self.path} is locked by another process's write"
                ) from error
            raise
        finally:
            with translate_errors("set the busy timeout"):
                await db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000):d}")

    async def source_state(self, kind: str, source: str) -> model.SourceState | None:
        found = await self._fetchall("get_source_state", (kind, source))
        return columns.source_state(found[0]) if found else None

    async def save_source_state(self, state: model.SourceState) -> None:
        values = columns.source_state_values(state)
        await self._write("save the source state", "save_source_state", values)

    async def add_rejects(
        self, rejects: Iterable[model.Rejected], *, ingested_at: dt.datetime
    ) -> int:
        values = columns.reject_values(rejects, ingested_at)
        async with self.transaction():
            with translate_errors("keep rejected rows"):
                await self._db.executemany(SQL.queries["insert_reject"], values)
        return len(values)

    async def clear_rejects(self, source: str) -> None:
        await self._write("clear rejected rows", "clear_rejects", (source,))

    async def rejects(self, source: str | None = None) -> list[model.Rejected]:
        if source is None:
            found = await self._fetchall("all_rejects")
        else:
            found = await self._fetchall("source_rejects", (source,))
        return [model.Rejected(*row) for row in found]

    async def claim_refresh(self, every: dt.timedelta) -> bool:
        now_us = _now_us()
        parameters = {"name": "refresh", "now": now_us, "every": every // _MICROSECOND}
        returned, _ = await self._write("claim the refresh", "claim_schedule", parameters)
        return bool(returned)

    # PollSink

    async def add_polls(self, polls: Iterable[model.PollRecord]) -> int:
        """
        Stage the polls, then merge them in key order in one transaction
        (``stage_polls``); return the rows new or changed.
        """
        async with self.stage_polls() as stage:
            await stage.add(polls)
            return await stage.merge()

    @contextlib.asynccontextmanager
    async def stage_polls(self) -> AsyncIterator[_PollStage]:
        """
        A stage in a temporary table of the writer connection of its own (stages of
        several tasks never mix), dropped at the end of the block (``docs/storage.md``).
        """
        stage = _PollStage(self, next(self._stages))
        await stage.create()
        try:
            yield stage
        finally:
            # A connection that failed may fail this too: the error that ended the block
            # is the one to raise, and a temporary table goes with its connection anyway.
            with contextlib.suppress(StorageError):
                await stage.drop()

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """
        The writer connection for one statement outside a transaction: this task's
        transaction if it has one, else a turn between other tasks' transactions (a
        statement run inside one would join it, and vanish with it if it rolled back).
        """
        if self._in_transaction.get():
            yield
            return
        async with self._write_lock:
            yield

    async def prune_polls(self, before: dt.datetime) -> int:
        """
        Prune ``PRUNE_STORES`` stores at a time (``polldays.pruned``), each range its own
        write transaction, so the write lock is released between ranges (an ingest or a
        claim waits for one range at most). Freed pages are reused by later inserts; the
        file does not shrink (docs/storage.md).
        """
        before_us = to_epoch_us(before)
        ids = [row[0] for row in await self._fetchall("store_ids", columns.range_values(None))]
        removed = 0
        for first, last in columns.store_ranges(ids, columns.PRUNE_STORES):
            bounds = {"first": first, "last": last, "before_day": before_us // polldays.DAY_US}
            async with self.transaction():
                with translate_errors("read polls to prune"):
                    rows = await self._db.execute_fetchall(SQL.queries["prune_poll_days"], bounds)
                deleted: list[tuple[str, int]] = []
                rewritten: list[polldays.StoredDay] = []
                for store_id, days in itertools.groupby(rows, operator.itemgetter(0)):
                    try:
                        count, gone, kept = polldays.pruned([row[1:] for row in days], before_us)
                    except ValueError:
                        # A row no version of storemon writes: left as it is (a report
                        # leaves the store out and says why).
                        continue
                    removed += count
                    deleted += [(store_id, day) for day in gone]
                    rewritten += [(store_id, *day) for day in kept]
                with translate_errors("prune polls"):
                    await self._db.executemany(SQL.queries["delete_poll_day"], deleted)
                    await self._db.executemany(SQL.queries["write_poll_day"], rewritten)
        return removed

    # MetadataSink

    async def replace_hours(self, rows: Iterable[model.HoursRecord]) -> int:
        return await self._replace_staged("hours", "count_new_hours", columns.hours_values(rows))

    async def replace_zones(self, rows: Iterable[model.ZoneRecord]) -> int:
        return await self._replace_staged("zones", "count_changed_zones", iter(rows))

    async def replace_special_hours(self, rows: Iterable[model.SpecialHoursRecord]) -> int:
        values = columns.special_values(rows)
        return await self._replace_staged("special_hours", "count_new_special_hours", values)

    async def replace_store_hours(self, store_id: str, rows: Sequence[model.HoursRow]) -> int:
        values = list(columns.hours_values((store_id, row) for row in rows))
        async with self.transaction():
            stored = await self._fetchall("store_hours", (store_id,))
            with translate_errors("replace a store's hours"):
                await self._db.execute(SQL.queries["delete_store_hours"], (store_id,))
                await self._db.executemany(SQL.queries["insert_hours"], values)
        return columns.new_store_hours(stored, rows)

    async def replace_store_zone(self, store_id: str, zone_key: str) -> bool:
        async with self.transaction():
            stored = await self._fetchall("store_zone", (store_id,))
            await self._write("set a store's zone", "set_zone", (store_id, zone_key))
        return not stored or stored[0][0] != zone_key

    async def _replace_staged(self, table: str, count: str, values: Iterator[Any]) -> int:
        """
        Replace a snapshot table: stage the rows in a temporary table (pulled in batches,
        the parsing in a worker thread), count in SQL, then replace the table from it.
        Neither the file nor the stored rows are ever held as Python objects.
        """
        async with self.transaction():
            db = self._db
            with translate_errors(f"replace the {table} table"):
                await db.execute(SQL.queries[f"create_{table}_stage"])
                await db.execute(SQL.queries[f"clear_{table}_stage"])
                while batch := await asyncio.to_thread(_take, values, BATCH_ROWS):
                    await db.executemany(SQL.queries[f"stage_{table}"], batch)
                found = await (await db.execute(SQL.queries[count])).fetchone()
                await db.execute(SQL.queries[f"delete_{table}"])
                await db.execute(SQL.queries[f"merge_{table}_stage"])
                await db.execute(SQL.queries[f"clear_{table}_stage"])
        return int(found[0]) if found else 0

    # MetadataSource

    async def hours_rows(self) -> list[model.HoursRecord]:
        made = columns.HoursRows()
        return [
            (store_id, made.row(day, start, end))
            for store_id, day, start, end in await self._fetchall(
                "snapshot_hours", columns.range_values(None)
            )
        ]

    async def zone_rows(self) -> list[model.ZoneRecord]:
        return [
            (store_id, zone_key)
            for store_id, zone_key in await self._fetchall(
                "snapshot_zones", columns.range_values(None)
            )
        ]

    async def special_hours_rows(self) -> list[model.SpecialHoursRecord]:
        return [
            (store_id, columns.special_row(day, start, end))
            for store_id, day, start, end in await self._fetchall("special_hours_rows")
        ]

    async def snapshot_rows(self, kind: str) -> int:
        [[count]] = await self._fetchall(f"count_{columns.snapshot_table(kind)}")
        return int(count)

    # StoreSource

    async def latest_poll_at(self) -> dt.datetime | None:
        [[latest]] = await self._fetchall("latest_poll")
        return columns.instant(latest)

    async def split_stores(self, parts: int, *, min_stores: int = 1) -> list[model.StoreRange]:
        """
        Cut by the stores polled on the newest two days (``recent_store_ids``), which are
        about all of them and cost the same on any history; the ranges still hold every
        store, and stores polled earlier only fall where their ids do.
        """
        rows = await self._fetchall("recent_store_ids")
        return model.split_stores(sorted({row[0] for row in rows}), parts, min_stores)

    async def snapshots(
        self,
        *,
        since: dt.datetime,
        as_of: dt.datetime,
        max_gap_us: int | None = None,
        stores: model.StoreRange | None = None,
    ) -> AsyncIterator[model.StoreSnapshot]:
        """
        Stream stores in store-id order from one read transaction on its own connection,
        each with only the polls that decide its numbers (``storemon.uptime.kept_polls``,
        or ``kept_polls_with_gaps`` with ``max_gap_us``): one string per range of stores
        comes from SQLite (``_thinned``).
        """
        bounds = _bounds(to_epoch_us(since), to_epoch_us(as_of))
        first_day, last_day = columns.special_days_around(bounds["since"], bounds["as_of"])
        connection = await self._connect()
        streams: list[AsyncGenerator[Any, None]] = []
        try:
            with translate_errors("read the report's snapshot"):
                await connection.execute("BEGIN")
                polls = _thinned(connection, bounds, max_gap_us, stores)
                shard = columns.range_values(stores)
                hours = _grouped(
                    await connection.execute(SQL.queries["snapshot_hours"], shard), BATCH_ROWS
                )
                zones = _grouped(
                    await connection.execute(SQL.queries["snapshot_zones"], shard), BATCH_ROWS
                )
                special = _grouped(
                    await connection.execute(
                        SQL.queries["snapshot_special_hours"],
                        {"first_day": first_day, "last_day": last_day, **shard},
                    ),
                    BATCH_ROWS,
                )
                streams += [polls, hours, zones, special]
            made = columns.HoursRows()
            hours_next = await anext(hours, None)
            zones_next = await anext(zones, None)
            special_next = await anext(special, None)
            while True:
                with translate_errors("read the report's snapshot"):
                    item = await anext(polls, None)
                    if item is None:
                        break
                    store_id, poll_at_us, poll_active, gap_after, polls_problem = item
                    while hours_next is not None and hours_next[0] < store_id:
                        hours_next = await anext(hours, None)
                    while zones_next is not None and zones_next[0] < store_id:
                        zones_next = await anext(zones, None)
                    while special_next is not None and special_next[0] < store_id:
                        special_next = await anext(special, None)
                store_hours: tuple[Any, ...] = ()
                store_special: tuple[Any, ...] = ()
                problem = special_problem = None
                if hours_next is not None and hours_next[0] == store_id:
                    store_hours, problem = made.store_rows(
                        (d, s, e) for _, d, s, e in hours_next[1]
                    )
                if special_next is not None and special_next[0] == store_id:
                    store_special, special_problem = columns.store_special_rows(
                        (d, s, e) for _, d, s, e in special_next[1]
                    )
                zone_key = (
                    zones_next[1][0][1]
                    if zones_next is not None and zones_next[0] == store_id
                    else None
                )
                yield model.StoreSnapshot(
                    store_id=store_id,
                    zone_key=zone_key,
                    hours=store_hours,
                    special=store_special,
                    poll_at_us=poll_at_us,
                    poll_active=poll_active,
                    problem=polls_problem or problem or special_problem,
                    gap_after=gap_after,
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
    ) -> model.StoreSnapshot | None:
        """
        Read one store, every poll, from one read transaction on its own connection.
        """
        since_us, as_of_us = to_epoch_us(since), to_epoch_us(as_of)
        bounds = _bounds(since_us, as_of_us)
        connection = await self._connect()
        try:
            with translate_errors("read a store's snapshot"):
                await connection.execute("BEGIN")
                polls = await _store_polls(connection, bounds, store_id)
                _, poll_at_us, poll_active, _, polls_problem = polls
                hours = await connection.execute_fetchall(SQL.queries["store_hours"], (store_id,))
                first_day, last_day = columns.special_days_around(since_us, as_of_us)
                special = await connection.execute_fetchall(
                    SQL.queries["store_special_hours"],
                    {"store_id": store_id, "first": first_day, "last": last_day},
                )
                zones = list(
                    await connection.execute_fetchall(SQL.queries["store_zone"], (store_id,))
                )
        finally:
            with contextlib.suppress(sqlite3.Error):
                if connection.in_transaction:
                    await connection.execute("ROLLBACK")
            with translate_errors("close the snapshot connection"):
                await connection.close()
        if not poll_at_us and polls_problem is None:
            return None
        store_hours, problem = columns.HoursRows().store_rows(
            (day, start, end) for day, start, end in hours
        )
        store_special, special_problem = columns.store_special_rows(
            (day, start, end) for day, start, end in special
        )
        return model.StoreSnapshot(
            store_id=store_id,
            zone_key=zones[0][0] if zones else None,
            hours=store_hours,
            special=store_special,
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
        """
        Store a new job; a request is waiting, so wait at most ``REQUEST_WAIT_S`` for the
        write lock (``StorageBusy`` after: the server answers 503 with Retry-After).
        """
        values = (
            report_id,
            columns.epoch_us(as_of),
            to_epoch_us(created_at),
            columns.gap_us(max_gap),
        )
        async with self._transaction(wait_s=REQUEST_WAIT_S):
            with translate_errors("create a report"):
                await self._db.execute(SQL.queries["create_report"], values)
        self._work.wake()
        return model.ReportJob(
            report_id, model.ReportStatus.PENDING, as_of, created_at, max_gap=max_gap
        )

    async def finish_report(self, report_id: str, *, csv: str, finished_at: dt.datetime) -> None:
        values = (csv, columns.csv_rows(csv), to_epoch_us(finished_at), report_id)
        await self._end_report("finish a report", "finish_report", values, report_id)

    async def fail_report(self, report_id: str, *, error: str, finished_at: dt.datetime) -> None:
        values = (error, to_epoch_us(finished_at), report_id)
        await self._end_report("fail a report", "fail_report", values, report_id)

    async def _end_report(self, action: str, name: str, values: Any, report_id: str) -> None:
        # The job's shards go with it, in the same transaction.
        async with self.transaction():
            changed = await self._changed(action, name, values)
            await self._changed("delete a report's shards", "delete_shards", (report_id,))
        if not changed:
            await self.get_report(report_id)  # ReportNotFound when there is no such job

    async def get_report(self, report_id: str) -> model.ReportJob:
        return columns.found_job(await self._fetchall("get_report", (report_id,)), report_id)

    async def list_reports(
        self, limit: int, *, before: model.ReportPosition | None = None
    ) -> list[model.ReportSummary]:
        page = {**columns.position_values(before), "limit": max(limit, 0)}
        return [columns.report_summary(row) for row in await self._fetchall("list_reports", page)]

    async def delete_reports(self, finished_before: dt.datetime) -> int:
        cutoff = (to_epoch_us(finished_before),)
        return await self._changed("delete reports", "delete_reports", cutoff)

    # ReportStore: the queue

    async def claim_report(self, worker_id: str, *, lease: dt.timedelta) -> model.ReportJob | None:
        """
        Claim with ``UPDATE ... RETURNING`` in a write transaction, but only after a read
        (no lock) found something to claim: idle workers look every second.
        """
        now_us = _now_us()
        [[claimable]] = await self._fetchall("claimable_report", {"now": now_us})
        if not claimable:
            return None
        until = now_us + lease // _MICROSECOND
        parameters = {"worker_id": worker_id, "now": now_us, "until": until}
        returned, _ = await self._write("claim a report", "claim_report", parameters)
        return columns.report_job(returned[0]) if returned else None

    async def renew_lease(self, report_id: str, worker_id: str, *, lease: dt.timedelta) -> bool:
        until = _now_us() + lease // _MICROSECOND
        holder = {"report_id": report_id, "worker_id": worker_id, "until": until}
        return await self._changed("renew a lease", "renew_lease", holder) == 1

    async def release_report(self, report_id: str, worker_id: str) -> None:
        holder = {"report_id": report_id, "worker_id": worker_id}
        await self._write("hand back a report", "release_report", holder)
        self._work.wake()

    async def queued_reports(self) -> int:
        [[count]] = await self._fetchall("queued_reports")
        return int(count)

    # ReportStore: shards

    async def plan_shards(self, report_id: str, *, max_stores: int) -> int:
        async with self.transaction():
            await self.get_report(report_id)  # ReportNotFound
            [[count]] = await self._fetchall("shard_count", (report_id,))
            if count:
                return int(count)
            with translate_errors("plan a report's shards"):
                ids = await self._db.execute_fetchall(
                    SQL.queries["store_ids"], columns.range_values(None)
                )
                store_ids = [row[0] for row in ids]
                starts = store_ids[:: model.shard_stride(len(store_ids), max_stores)]
                ranges = model.store_ranges(starts)
                await self._db.executemany(
                    SQL.queries["insert_shard"],
                    [
                        (report_id, number, stores.first, stores.end)
                        for number, stores in enumerate(ranges)
                    ],
                )
        self._work.wake()
        return len(ranges)

    async def claim_shard(
        self, worker_id: str, *, lease: dt.timedelta, report_id: str | None = None
    ) -> model.ReportShard | None:
        """
        Claim in a write transaction, but only after a read (no lock) found a shard.
        """
        now_us = _now_us()
        [[claimable]] = await self._fetchall(
            "claimable_shard", {"now": now_us, "report_id": report_id}
        )
        if not claimable:
            return None
        parameters = {
            "worker_id": worker_id,
            "now": now_us,
            "until": now_us + lease // _MICROSECOND,
            "report_id": report_id,
        }
        async with self.transaction():
            returned, _ = await self._write("claim a shard", "claim_shard", parameters)
            if not returned:
                return None
            [[as_of, max_gap_us]] = await self._fetchall("report_as_of", (returned[0][0],))
        return columns.report_shard(returned[0], as_of, max_gap_us)

    async def renew_shard(
        self, report_id: str, number: int, worker_id: str, *, lease: dt.timedelta
    ) -> bool:
        holder = {
            "report_id": report_id,
            "number": number,
            "worker_id": worker_id,
            "until": _now_us() + lease // _MICROSECOND,
        }
        return await self._changed("renew a shard's lease", "renew_shard", holder) == 1

    async def release_shard(self, report_id: str, number: int, worker_id: str) -> None:
        holder = {"report_id": report_id, "number": number, "worker_id": worker_id}
        await self._changed("hand back a shard", "release_shard", holder)
        self._work.wake()

    async def wait_for_work(self, seconds: float) -> bool:
        return await self._work.wait(seconds)

    async def finish_shard(self, result: model.ShardResult, *, report_id: str) -> int:
        """
        Store and count in one write transaction: finishers take turns on the write lock.
        """
        values = {
            "report_id": report_id,
            "number": result.number,
            "lines": result.lines,
            "skipped": columns.skipped_text(result.skipped),
        }
        async with self.transaction():
            await self._changed("store a shard", "finish_shard", values)
            [[left]] = await self._fetchall("shards_left", (report_id,))
        return int(left)

    async def shard_results(self, report_id: str) -> list[model.ShardResult] | None:
        [[left]] = await self._fetchall("shards_left", (report_id,))
        if left:
            return None
        return columns.shard_results(await self._fetchall("shard_results", (report_id,)))


_MICROSECOND = dt.timedelta(microseconds=1)


def _now_us() -> int:
    # Leases and the schedule use this host's clock: every process of one SQLite file
    # runs on one host.
    return to_epoch_us(dt.datetime.now(dt.UTC))
