"""
A real in-memory backend and a manual clock, for tests (yours too) and notebooks.

``InMemoryRepository`` is the reference backend: every other backend must pass the same
contract tests and give the same reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import Any

import attrs

from storemon.errors import ReportNotFound
from storemon.model import (
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


@attrs.define
class _Tables:
    """
    Everything but the reports; replaced whole when a transaction commits.
    """

    polls: dict[str, dict[int, bool]] = attrs.field(factory=lambda: defaultdict(dict))
    hours: dict[str, list[HoursRow]] = attrs.field(factory=dict)
    zones: dict[str, str] = attrs.field(factory=dict)
    states: dict[tuple[str, str], SourceState] = attrs.field(factory=dict)
    rejects: list[Rejected] = attrs.field(factory=list)

    def copy(self) -> _Tables:
        polls: dict[str, dict[int, bool]] = defaultdict(dict)
        polls.update((store_id, dict(times)) for store_id, times in self.polls.items())
        return _Tables(
            polls, dict(self.hours), dict(self.zones), dict(self.states), list(self.rejects)
        )


def _store_snapshot(
    tables: _Tables, store_id: str, since_us: int, as_of_us: int
) -> StoreSnapshot | None:
    polls = tables.polls.get(store_id, {})
    times = sorted(at for at in polls if at <= as_of_us)
    if not times:
        return None
    before = [at for at in times if at < since_us]
    kept = ([before[-1]] if before else []) + [at for at in times if at >= since_us]
    return StoreSnapshot(
        store_id=store_id,
        zone_key=tables.zones.get(store_id),
        hours=tuple(tables.hours.get(store_id, ())),
        poll_at_us=tuple(kept),
        poll_active=tuple(polls[at] for at in kept),
    )


class InMemoryRepository:
    """
    Polls, hours and zones held in dictionaries; satisfies the repository protocols.

    A transaction works on a copy of the tables and swaps it in when it commits, so
    readers always see committed data and a failed ingest leaves no trace. Writers take
    turns (an ``asyncio.Lock``). Copying costs time in proportion to the data, which is
    fine for tests and notebooks; use SQLite for big data.
    """

    def __init__(self) -> None:
        self._data = _Tables()
        self._reports: dict[str, ReportJob] = {}
        self._write_lock = asyncio.Lock()
        self._working: contextvars.ContextVar[_Tables | None] = contextvars.ContextVar(
            f"storemon-memory-tx-{id(self)}", default=None
        )

    async def __aenter__(self) -> InMemoryRepository:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def _view(self) -> _Tables:
        working = self._working.get()
        return self._data if working is None else working

    # IngestStore

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        if self._working.get() is not None:
            yield
            return
        async with self._write_lock:
            working = self._data.copy()
            token = self._working.set(working)
            try:
                yield
            finally:
                self._working.reset(token)
            self._data = working

    async def source_state(self, kind: str, source: str) -> SourceState | None:
        return self._view().states.get((kind, source))

    async def save_source_state(self, state: SourceState) -> None:
        async with self.transaction():
            self._view().states[state.kind, state.source] = state

    async def add_rejects(self, rejects: Iterable[Rejected], *, ingested_at: dt.datetime) -> int:
        async with self.transaction():
            before = len(self._view().rejects)
            self._view().rejects.extend(rejects)
            return len(self._view().rejects) - before

    async def clear_rejects(self, source: str) -> None:
        async with self.transaction():
            tables = self._view()
            tables.rejects = [item for item in tables.rejects if item.source != source]

    async def rejects(self, source: str | None = None) -> list[Rejected]:
        kept = [item for item in self._view().rejects if source in (None, item.source)]
        return sorted(kept, key=lambda item: (item.source, item.line))

    # PollSink

    async def add_polls(self, polls: Iterable[PollRecord]) -> int:
        async with self.transaction():
            changed = 0
            all_polls = self._view().polls
            for store_id, at_us, active in polls:
                store = all_polls[store_id]
                if store.get(at_us) is not active:
                    changed += 1
                    store[at_us] = active
            return changed

    # MetadataSink

    async def replace_hours(self, rows: Iterable[HoursRecord]) -> None:
        async with self.transaction():
            hours: dict[str, list[HoursRow]] = defaultdict(list)
            for store_id, row in rows:
                hours[store_id].append(row)
            self._view().hours = dict(hours)

    async def replace_zones(self, rows: Iterable[ZoneRecord]) -> None:
        async with self.transaction():
            self._view().zones = dict(rows)

    # MetadataSource

    async def hours_rows(self) -> list[HoursRecord]:
        return [
            (store_id, row)
            for store_id, rows in self._view().hours.items()
            for row in dict.fromkeys(rows)
        ]

    async def zone_rows(self) -> list[ZoneRecord]:
        return list(self._view().zones.items())

    # StoreSource

    async def latest_poll_at(self) -> dt.datetime | None:
        polls = self._view().polls
        latest = max((max(times) for times in polls.values() if times), default=None)
        return None if latest is None else from_epoch_us(latest)

    async def snapshots(
        self, *, since: dt.datetime, as_of: dt.datetime
    ) -> AsyncIterator[StoreSnapshot]:
        for snapshot in self.snapshots_now(since=since, as_of=as_of):
            yield snapshot

    def snapshots_now(self, *, since: dt.datetime, as_of: dt.datetime) -> Iterable[StoreSnapshot]:
        """
        The snapshots of ``snapshots``, synchronously (for notebooks and the CLI).
        """
        tables = self._view()  # committed tables are replaced, never changed in place
        since_us, as_of_us = to_epoch_us(since), to_epoch_us(as_of)
        for store_id in list(tables.polls):
            snapshot = _store_snapshot(tables, store_id, since_us, as_of_us)
            if snapshot is not None:
                yield snapshot

    # StoreLookup

    async def snapshot(
        self, store_id: str, *, since: dt.datetime, as_of: dt.datetime
    ) -> StoreSnapshot | None:
        return _store_snapshot(self._view(), store_id, to_epoch_us(since), to_epoch_us(as_of))

    # ReportStore

    async def create_report(
        self, report_id: str, *, as_of: dt.datetime | None, created_at: dt.datetime
    ) -> ReportJob:
        job = ReportJob(report_id, ReportStatus.PENDING, as_of, created_at)
        self._reports[report_id] = job
        return job

    async def start_report(self, report_id: str) -> None:
        self._update(report_id, status=ReportStatus.RUNNING)

    async def finish_report(self, report_id: str, *, csv: str, finished_at: dt.datetime) -> None:
        self._update(report_id, status=ReportStatus.COMPLETE, csv=csv, finished_at=finished_at)

    async def fail_report(self, report_id: str, *, error: str, finished_at: dt.datetime) -> None:
        self._update(report_id, status=ReportStatus.FAILED, error=error, finished_at=finished_at)

    async def get_report(self, report_id: str) -> ReportJob:
        try:
            return self._reports[report_id]
        except KeyError:
            raise ReportNotFound(f"no report has id {report_id!r}") from None

    async def unfinished_reports(self) -> list[ReportJob]:
        waiting = (ReportStatus.PENDING, ReportStatus.RUNNING)
        jobs = [job for job in self._reports.values() if job.status in waiting]
        return sorted(jobs, key=lambda job: job.created_at)

    def _update(self, report_id: str, **changes: Any) -> None:
        if report_id not in self._reports:
            raise ReportNotFound(f"no report has id {report_id!r}")
        self._reports[report_id] = attrs.evolve(self._reports[report_id], **changes)


@attrs.define
class ManualClock:
    """
    A clock that moves only when told, for tests of scheduling code.
    """

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, by: dt.timedelta) -> None:
        """
        Move the clock forward.
        """
        self.now += by
