"""
The in-memory backend, ``memory://``: dictionaries in the process, nothing persists.

It is a real backend, not a mock: it passes the same contract suite as SQLite and
PostgreSQL and gives the same reports, so tests (yours too) and notebooks can use it in
their place. Its report queue emulates the databases' claims and leases on a clock it is
given (wall time by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

import attrs

from storemon import model
from storemon.errors import ReportNotFound, StorageBusy
from storemon.model import to_epoch_us
from storemon.storage.columns import csv_rows, new_store_hours, snapshot_table
from storemon.storage.lifecycle import Lifecycle
from storemon.storage.wake import WorkSignal

Clock = Callable[[], dt.datetime]

_UNFINISHED = (model.ReportStatus.PENDING, model.ReportStatus.RUNNING)


def _wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@attrs.define
class _Tables:
    """
    Everything but the reports; replaced whole when a transaction commits.
    """

    polls: dict[str, dict[int, bool]] = attrs.field(factory=lambda: defaultdict(dict))
    hours: dict[str, list[model.HoursRow]] = attrs.field(factory=dict)
    zones: dict[str, str] = attrs.field(factory=dict)
    states: dict[tuple[str, str], model.SourceState] = attrs.field(factory=dict)
    rejects: list[model.Rejected] = attrs.field(factory=list)
    special: dict[str, list[model.SpecialHoursRow]] = attrs.field(factory=dict)

    def copy(self) -> _Tables:
        polls: dict[str, dict[int, bool]] = defaultdict(dict)
        polls.update((store_id, dict(times)) for store_id, times in self.polls.items())
        return _Tables(
            polls,
            dict(self.hours),
            dict(self.zones),
            dict(self.states),
            list(self.rejects),
            dict(self.special),
        )


@attrs.frozen
class _Lease:
    """
    Who holds a Running job, and until when.
    """

    worker_id: str
    until: dt.datetime


def _store_snapshot(
    tables: _Tables, store_id: str, since_us: int, as_of_us: int
) -> model.StoreSnapshot | None:
    polls = tables.polls.get(store_id, {})
    times = sorted(at for at in polls if at <= as_of_us)
    if not times:
        return None
    before = [at for at in times if at < since_us]
    kept = ([before[-1]] if before else []) + [at for at in times if at >= since_us]
    return model.StoreSnapshot(
        store_id=store_id,
        zone_key=tables.zones.get(store_id),
        hours=tuple(tables.hours.get(store_id, ())),
        special=tuple(tables.special.get(store_id, ())),
        poll_at_us=tuple(kept),
        poll_active=tuple(polls[at] for at in kept),
    )


@attrs.define
class _Shard:
    """
    A shard of a job: its range, its state, who holds it until when, and its result.
    """

    stores: model.StoreRange
    status: str = model.ReportStatus.PENDING
    lease: _Lease | None = None
    result: model.ShardResult | None = None


_DONE = "Done"


class _PollStage:
    """
    Polls staged in a list, merged in staging order: the reference for the SQL backends,
    which merge in key order and must come to the same.
    """

    def __init__(self, repository: InMemoryRepository) -> None:
        self._repository = repository
        self._staged: list[model.PollRecord] = []

    async def add(self, polls: Iterable[model.PollRecord]) -> int:
        """
        Pull ``polls`` in a worker thread, as the SQL backends do: the parsing of an
        ingest never holds up the event loop.
        """
        before = len(self._staged)
        await asyncio.to_thread(self._staged.extend, polls)
        return len(self._staged) - before

    async def add_batches(self, batches: Iterable[Sequence[model.PollRecord]]) -> int:
        return await self.add(itertools.chain.from_iterable(batches))

    async def merge(self) -> int:
        staged, self._staged = self._staged, []
        return await self._repository.upsert_polls(staged)


class InMemoryRepository(Lifecycle):
    """
    Polls, hours, zones and special hours held in dictionaries; satisfies
    ``storemon.repository.Repository``.

    A transaction works on a copy of the tables and swaps it in when it commits, so
    readers always see committed data and a failed ingest leaves no trace. Writers take
    turns (an ``asyncio.Lock``). Copying costs time in proportion to the data, which is
    fine for tests and notebooks; use SQLite for big data.

    Report jobs are kept apart from the tables (their writes never wait for an ingest), in
    trigger order; ``clock`` decides when leases run out and when a refresh is due.
    """

    def __init__(self, *, clock: Clock = _wall_clock) -> None:
        self.clock = clock
        self._data = _Tables()
        self._reports: dict[str, model.ReportJob] = {}
        self._leases: dict[str, _Lease] = {}
        #: Per split job, its shards in number order.
        self._shards: dict[str, list[_Shard]] = {}
        self._schedule: dict[str, dt.datetime] = {}
        #: Wakes ``wait_for_work`` when work is queued (one process: no one else queues).
        self._work = WorkSignal()
        self._write_lock = asyncio.Lock()
        self._working: contextvars.ContextVar[_Tables | None] = contextvars.ContextVar(
            f"storemon-memory-tx-{id(self)}", default=None
        )

    # Lifecycle: the dictionaries are there from the start, and stay.

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    def _view(self) -> _Tables:
        working = self._working.get()
        return self._data if working is None else working

    # IngestStore

    @contextlib.asynccontextmanager
    async def transaction(self, *, wait: dt.timedelta | None = None) -> AsyncIterator[None]:
        if self._working.get() is not None:
            yield
            return
        try:
            async with asyncio.timeout(None if wait is None else wait.total_seconds()):
                await self._write_lock.acquire()
        except TimeoutError:
            raise StorageBusy("the memory repository is busy with another write") from None
        try:
            working = self._data.copy()
            token = self._working.set(working)
            try:
                yield
            finally:
                self._working.reset(token)
            self._data = working
        finally:
            self._write_lock.release()

    async def source_state(self, kind: str, source: str) -> model.SourceState | None:
        return self._view().states.get((kind, source))

    async def save_source_state(self, state: model.SourceState) -> None:
        async with self.transaction():
            self._view().states[state.kind, state.source] = state

    async def add_rejects(
        self, rejects: Iterable[model.Rejected], *, ingested_at: dt.datetime
    ) -> int:
        async with self.transaction():
            before = len(self._view().rejects)
            self._view().rejects.extend(rejects)
            return len(self._view().rejects) - before

    async def clear_rejects(self, source: str) -> None:
        async with self.transaction():
            tables = self._view()
            tables.rejects = [item for item in tables.rejects if item.source != source]

    async def rejects(self, source: str | None = None) -> list[model.Rejected]:
        kept = [item for item in self._view().rejects if source in (None, item.source)]
        return sorted(kept, key=lambda item: (item.source, item.line))

    async def claim_refresh(self, every: dt.timedelta) -> bool:
        now = self.clock()
        last = self._schedule.get("refresh")
        if last is not None and now - last < every:
            return False
        self._schedule["refresh"] = now
        return True

    # PollSink

    async def add_polls(self, polls: Iterable[model.PollRecord]) -> int:
        async with self.stage_polls() as stage:
            await stage.add(polls)
            return await stage.merge()

    @contextlib.asynccontextmanager
    async def stage_polls(self) -> AsyncIterator[_PollStage]:
        yield _PollStage(self)

    async def upsert_polls(self, polls: Iterable[model.PollRecord]) -> int:
        """
        Upsert ``polls`` in their order in one transaction; return the rows that were new
        or changed the status stored at their instant (the merge of a stage).
        """
        async with self.transaction():
            changed = 0
            all_polls = self._view().polls
            for store_id, at_us, active in polls:
                store = all_polls[store_id]
                if store.get(at_us) is not active:
                    changed += 1
                    store[at_us] = active
            return changed

    async def prune_polls(self, before: dt.datetime) -> int:
        before_us = to_epoch_us(before)
        async with self.transaction():
            deleted = 0
            for polls in self._view().polls.values():
                older = sorted(at for at in polls if at < before_us)
                for at in older[:-1]:  # the latest before the cut stays
                    del polls[at]
                deleted += max(len(older) - 1, 0)
            return deleted

    # MetadataSink

    async def replace_hours(self, rows: Iterable[model.HoursRecord]) -> int:
        async with self.transaction():
            tables = self._view()
            stored = {(store_id, row) for store_id, rows in tables.hours.items() for row in rows}
            hours: dict[str, list[model.HoursRow]] = defaultdict(list)
            new = 0
            for store_id, row in rows:
                new += (store_id, row) not in stored
                hours[store_id].append(row)
            tables.hours = dict(hours)
            return new

    async def replace_zones(self, rows: Iterable[model.ZoneRecord]) -> int:
        async with self.transaction():
            tables = self._view()
            zones: dict[str, str] = {}
            changed = 0
            for store_id, zone_key in rows:
                changed += tables.zones.get(store_id) != zone_key
                zones[store_id] = zone_key
            tables.zones = zones
            return changed

    async def replace_special_hours(self, rows: Iterable[model.SpecialHoursRecord]) -> int:
        async with self.transaction():
            tables = self._view()
            stored = {(store_id, row) for store_id, rows in tables.special.items() for row in rows}
            special: dict[str, list[model.SpecialHoursRow]] = defaultdict(list)
            new = 0
            for store_id, row in rows:
                new += (store_id, row) not in stored
                special[store_id].append(row)
            tables.special = dict(special)
            return new

    async def replace_store_hours(self, store_id: str, rows: Sequence[model.HoursRow]) -> int:
        async with self.transaction():
            tables = self._view()
            stored = tables.hours.get(store_id, [])
            new = new_store_hours(((row.day, row.start_us, row.end_us) for row in stored), rows)
            if rows:  # identical rows once, as the SQL backends store them
                tables.hours[store_id] = list(dict.fromkeys(rows))
            else:
                tables.hours.pop(store_id, None)
            return new

    async def replace_store_zone(self, store_id: str, zone_key: str) -> bool:
        async with self.transaction():
            tables = self._view()
            changed = tables.zones.get(store_id) != zone_key
            tables.zones[store_id] = zone_key
            return changed

    # MetadataSource

    async def hours_rows(self) -> list[model.HoursRecord]:
        return [
            (store_id, row)
            for store_id, rows in self._view().hours.items()
            for row in dict.fromkeys(rows)
        ]

    async def zone_rows(self) -> list[model.ZoneRecord]:
        return list(self._view().zones.items())

    async def special_hours_rows(self) -> list[model.SpecialHoursRecord]:
        return [
            (store_id, row)
            for store_id, rows in self._view().special.items()
            for row in dict.fromkeys(rows)
        ]

    async def snapshot_rows(self, kind: str) -> int:
        tables = self._view()
        table = snapshot_table(kind)
        if table == "hours":
            return sum(len(set(rows)) for rows in tables.hours.values())
        if table == "special_hours":
            return sum(len(set(rows)) for rows in tables.special.values())
        return len(tables.zones)

    # StoreSource

    async def latest_poll_at(self) -> dt.datetime | None:
        polls = self._view().polls
        latest = max((max(times) for times in polls.values() if times), default=None)
        return None if latest is None else model.from_epoch_us(latest)

    async def split_stores(self, parts: int, *, min_stores: int = 1) -> list[model.StoreRange]:
        polls = self._view().polls
        stores = sorted(store for store, times in polls.items() if times)
        return model.split_stores(stores, parts, min_stores)

    async def snapshots(
        self,
        *,
        since: dt.datetime,
        as_of: dt.datetime,
        max_gap_us: int | None = None,
        stores: model.StoreRange | None = None,
    ) -> AsyncIterator[model.StoreSnapshot]:
        # Every poll and every special row: ``max_gap_us`` thins nothing here.
        for snapshot in self.snapshots_now(since=since, as_of=as_of, stores=stores):
            yield snapshot

    def snapshots_now(
        self, *, since: dt.datetime, as_of: dt.datetime, stores: model.StoreRange | None = None
    ) -> Iterable[model.StoreSnapshot]:
        """
        The snapshots of ``snapshots`` (every poll), synchronously, for notebooks and the CLI.
        """
        tables = self._view()  # committed tables are replaced, never changed in place
        since_us, as_of_us = to_epoch_us(since), to_epoch_us(as_of)
        for store_id in list(tables.polls):
            if stores is not None and store_id not in stores:
                continue
            snapshot = _store_snapshot(tables, store_id, since_us, as_of_us)
            if snapshot is not None:
                yield snapshot

    # StoreLookup

    async def snapshot(
        self, store_id: str, *, since: dt.datetime, as_of: dt.datetime
    ) -> model.StoreSnapshot | None:
        return _store_snapshot(self._view(), store_id, to_epoch_us(since), to_epoch_us(as_of))

    # ReportStore

    async def create_report(
        self,
        report_id: str,
        *,
        as_of: dt.datetime | None,
        created_at: dt.datetime,
        max_gap: dt.timedelta | None = None,
    ) -> model.ReportJob:
        job = model.ReportJob(
            report_id, model.ReportStatus.PENDING, as_of, created_at, max_gap=max_gap
        )
        self._reports[report_id] = job
        self._work.wake()
        return job

    async def finish_report(self, report_id: str, *, csv: str, finished_at: dt.datetime) -> None:
        self._end(report_id, status=model.ReportStatus.COMPLETE, csv=csv, finished_at=finished_at)

    async def fail_report(self, report_id: str, *, error: str, finished_at: dt.datetime) -> None:
        self._end(report_id, status=model.ReportStatus.FAILED, error=error, finished_at=finished_at)

    def _end(self, report_id: str, **changes: Any) -> None:
        job = self._job(report_id)
        if job.status in _UNFINISHED:  # a late worker cannot end a job twice
            self._reports[report_id] = attrs.evolve(job, **changes)
            self._leases.pop(report_id, None)
            self._shards.pop(report_id, None)

    async def get_report(self, report_id: str) -> model.ReportJob:
        return self._job(report_id)

    def _job(self, report_id: str) -> model.ReportJob:
        try:
            return self._reports[report_id]
        except KeyError:
            raise ReportNotFound(f"no report has id {report_id!r}") from None

    async def list_reports(
        self, limit: int, *, before: model.ReportPosition | None = None
    ) -> list[model.ReportSummary]:
        summaries = [
            model.ReportSummary(
                job.report_id,
                job.status,
                job.as_of,
                job.created_at,
                job.finished_at,
                None if job.csv is None else csv_rows(job.csv),
            )
            for job in self._reports.values()
        ]
        newest_first = sorted(summaries, key=lambda summary: summary.position, reverse=True)
        page = [job for job in newest_first if before is None or job.position < before]
        return page[: max(limit, 0)]

    async def delete_reports(self, finished_before: dt.datetime) -> int:
        gone = [
            job.report_id
            for job in self._reports.values()
            if job.status not in _UNFINISHED
            and job.finished_at is not None
            and job.finished_at < finished_before
        ]
        for report_id in gone:
            del self._reports[report_id]
        return len(gone)

    # ReportStore: the queue

    async def claim_report(self, worker_id: str, *, lease: dt.timedelta) -> model.ReportJob | None:
        now = self.clock()
        oldest_first = sorted(self._reports.values(), key=lambda job: job.created_at)
        for job in oldest_first:
            held = self._leases.get(job.report_id)
            if job.status == model.ReportStatus.PENDING or (
                job.status == model.ReportStatus.RUNNING and (held is None or held.until < now)
            ):
                claimed = attrs.evolve(job, status=model.ReportStatus.RUNNING)
                self._reports[job.report_id] = claimed
                self._leases[job.report_id] = _Lease(worker_id, now + lease)
                return claimed
        return None

    async def renew_lease(self, report_id: str, worker_id: str, *, lease: dt.timedelta) -> bool:
        if not self._holds(report_id, worker_id):
            return False
        self._leases[report_id] = _Lease(worker_id, self.clock() + lease)
        return True

    async def release_report(self, report_id: str, worker_id: str) -> None:
        if self._holds(report_id, worker_id):
            self._reports[report_id] = attrs.evolve(
                self._reports[report_id], status=model.ReportStatus.PENDING
            )
            del self._leases[report_id]
            self._work.wake()

    def _holds(self, report_id: str, worker_id: str) -> bool:
        job, held = self._reports.get(report_id), self._leases.get(report_id)
        return (
            job is not None
            and job.status == model.ReportStatus.RUNNING
            and held is not None
            and held.worker_id == worker_id
        )

    async def queued_reports(self) -> int:
        return sum(job.status == model.ReportStatus.PENDING for job in self._reports.values())

    # ReportStore: shards

    async def plan_shards(self, report_id: str, *, max_stores: int) -> int:
        self._job(report_id)
        if report_id not in self._shards:
            ids = sorted(store_id for store_id, times in self._view().polls.items() if times)
            ranges = model.store_ranges(ids[:: model.shard_stride(len(ids), max_stores)])
            self._shards[report_id] = [_Shard(stores) for stores in ranges]
            self._work.wake()
        return len(self._shards[report_id])

    async def claim_shard(
        self, worker_id: str, *, lease: dt.timedelta, report_id: str | None = None
    ) -> model.ReportShard | None:
        now = self.clock()
        for job in sorted(self._reports.values(), key=lambda job: job.created_at):
            if job.status not in _UNFINISHED or report_id not in (None, job.report_id):
                continue
            for number, shard in enumerate(self._shards.get(job.report_id, ())):
                if shard.status == model.ReportStatus.PENDING or (
                    shard.status == model.ReportStatus.RUNNING
                    and (shard.lease is None or shard.lease.until < now)
                ):
                    shard.status = model.ReportStatus.RUNNING
                    shard.lease = _Lease(worker_id, now + lease)
                    return model.ReportShard(
                        job.report_id, number, shard.stores, job.as_of, max_gap=job.max_gap
                    )
        return None

    def _held_shard(self, report_id: str, number: int, worker_id: str) -> _Shard | None:
        shards = self._shards.get(report_id, [])
        shard = shards[number] if 0 <= number < len(shards) else None
        if (
            shard is not None
            and shard.status == model.ReportStatus.RUNNING
            and shard.lease is not None
            and shard.lease.worker_id == worker_id
        ):
            return shard
        return None

    async def renew_shard(
        self, report_id: str, number: int, worker_id: str, *, lease: dt.timedelta
    ) -> bool:
        shard = self._held_shard(report_id, number, worker_id)
        if shard is None:
            return False
        shard.lease = _Lease(worker_id, self.clock() + lease)
        return True

    async def release_shard(self, report_id: str, number: int, worker_id: str) -> None:
        shard = self._held_shard(report_id, number, worker_id)
        if shard is not None:
            shard.status, shard.lease = model.ReportStatus.PENDING, None
            self._work.wake()

    async def wait_for_work(self, seconds: float) -> bool:
        return await self._work.wait(seconds)

    async def finish_shard(self, result: model.ShardResult, *, report_id: str) -> int:
        shards = self._shards.get(report_id, [])
        if 0 <= result.number < len(shards) and shards[result.number].status != _DONE:
            shard = shards[result.number]
            shard.status, shard.lease, shard.result = _DONE, None, result
        return sum(shard.status != _DONE for shard in shards)

    async def shard_results(self, report_id: str) -> list[model.ShardResult] | None:
        results = [shard.result for shard in self._shards.get(report_id, [])]
        if any(result is None for result in results):
            return None
        return [result for result in results if result is not None]
