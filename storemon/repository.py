"""
Repository protocols: what the service reads and writes, split by consumer.

A backend (``storemon.testing.InMemoryRepository``, ``storemon.storage.sqlite``) satisfies
them structurally; nothing inherits. Only model values and plain tuples cross: no rows,
cursors or driver objects. Instants are aware UTC datetimes at this surface; poll rows
use microseconds since the epoch because there are millions of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from storemon.model import (
    HoursRecord,
    PollRecord,
    Rejected,
    ReportJob,
    SourceState,
    StoreSnapshot,
    ZoneRecord,
)


class StoreSource(Protocol):
    """
    Read access for reports.
    """

    async def latest_poll_at(self) -> dt.datetime | None:
        """
        Return the latest poll instant over all stores, or ``None`` when there is none.
        """
        ...

    def snapshots(self, *, since: dt.datetime, as_of: dt.datetime) -> AsyncIterator[StoreSnapshot]:
        """
        Yield one snapshot per store that has a poll at or before ``as_of``.

        Each holds the store's zone key (or ``None``), its hours rows (empty if none), and
        its polls at or after ``since`` and at or before ``as_of`` plus its latest poll
        before ``since``, strictly increasing in time, one per instant (the later ingested
        wins). Stores come in no particular order, all from one consistent state of the
        data, in a single pass (never one query per store).
        """
        ...


@runtime_checkable
class ThinStoreSource(Protocol):
    """
    A faster read for reports, which a backend may offer besides ``StoreSource``.
    """

    def report_snapshots(
        self, *, since: dt.datetime, as_of: dt.datetime
    ) -> AsyncIterator[StoreSnapshot]:
        """
        Yield what ``snapshots`` yields, except that a snapshot may leave out any poll whose
        status equals the statuses of the polls just before and after it (never its first
        or last poll): that changes no number of the report (``storemon.uptime.kept_polls``).
        """
        ...


class StoreLookup(Protocol):
    """
    Read access to one store, for pictures of a report row (``storemon.explain``).
    """

    async def snapshot(
        self, store_id: str, *, since: dt.datetime, as_of: dt.datetime
    ) -> StoreSnapshot | None:
        """
        Return the store's snapshot as ``snapshots`` would yield it, or ``None`` when the
        store has no poll at or before ``as_of``.
        """
        ...


class PollSink(Protocol):
    """
    Write access for status rows.
    """

    async def add_polls(self, polls: Iterable[PollRecord]) -> int:
        """
        Upsert polls keyed by (store id, instant); a later row for an instant replaces the
        status. Return how many rows were new or changed a stored status.
        """
        ...


class MetadataSink(Protocol):
    """
    Write access for the two snapshot tables, business hours and time zones.
    """

    async def replace_hours(self, rows: Iterable[HoursRecord]) -> None:
        """
        Replace every business-hours row with ``rows``, atomically.
        """
        ...

    async def replace_zones(self, rows: Iterable[ZoneRecord]) -> None:
        """
        Replace every time-zone row with ``rows``, atomically (a later row for a store wins).
        """
        ...


@runtime_checkable
class CountingHoursSink(Protocol):
    """
    A streaming ``replace_hours`` that counts, which a backend may offer: ingestion then
    never holds a whole business-hours file, nor the stored rows, in memory.
    """

    async def replace_hours_counted(self, rows: Iterable[HoursRecord]) -> int:
        """
        Do what ``replace_hours`` does, reading ``rows`` once; return how many of them (a
        repeated row each time) were not stored before.
        """
        ...


class MetadataSource(Protocol):
    """
    Read access to the two snapshot tables as they are stored.
    """

    async def hours_rows(self) -> list[HoursRecord]:
        """
        Return every business-hours row (identical rows at most once), in no order.
        """
        ...

    async def zone_rows(self) -> list[ZoneRecord]:
        """
        Return every time-zone row, one per store, in no order.
        """
        ...


class IngestStore(Protocol):
    """
    What ingestion keeps besides the data: one transaction per source, the state of each
    source for incremental refresh, and the rows that were rejected.
    """

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """
        Group the writes of the current task into one transaction.

        Every write made inside (``add_polls``, ``replace_hours``, ``save_source_state``
        ...) commits at the end of the block, or none does if the block raises. Other
        tasks' writes wait until it ends; readers keep seeing the data as it was before.
        Nested blocks join the outer one.
        """
        ...

    async def source_state(self, kind: str, source: str) -> SourceState | None:
        """
        Return what the last ingest of ``source`` as ``kind`` saw, or ``None``.
        """
        ...

    async def save_source_state(self, state: SourceState) -> None:
        """
        Record a source's state, replacing the previous one for its kind and source.
        """
        ...

    async def add_rejects(self, rejects: Iterable[Rejected], *, ingested_at: dt.datetime) -> int:
        """
        Keep rejected rows; return how many were added.
        """
        ...

    async def clear_rejects(self, source: str) -> None:
        """
        Forget the rejected rows of ``source`` (before it is read again in full).
        """
        ...

    async def rejects(self, source: str | None = None) -> list[Rejected]:
        """
        Return the kept rejected rows, of one source or all, ordered by source and line.
        """
        ...


class ReportStore(Protocol):
    """
    Durable report jobs: created when triggered, finished with a CSV or an error.
    """

    async def create_report(
        self, report_id: str, *, as_of: dt.datetime | None, created_at: dt.datetime
    ) -> ReportJob:
        """
        Store a new job in state Pending and return it.
        """
        ...

    async def start_report(self, report_id: str) -> None:
        """
        Move a job to Running.
        """
        ...

    async def finish_report(self, report_id: str, *, csv: str, finished_at: dt.datetime) -> None:
        """
        Move a job to Complete with its CSV.
        """
        ...

    async def fail_report(self, report_id: str, *, error: str, finished_at: dt.datetime) -> None:
        """
        Move a job to Failed with the reason.
        """
        ...

    async def get_report(self, report_id: str) -> ReportJob:
        """
        Return a job. Raises ``ReportNotFound``.
        """
        ...

    async def unfinished_reports(self) -> list[ReportJob]:
        """
        Return the Pending and Running jobs, oldest first (to resume after a restart).
        """
        ...


@runtime_checkable
class SharedJobs(Protocol):
    """
    A report queue and a refresh shared by several server processes (PostgreSQL only).

    A backend without these methods serves one process, which queues its jobs itself.
    """

    async def claim_report(self, worker_id: str, *, lease: dt.timedelta) -> ReportJob | None:
        """
        Move the oldest Pending job, or a Running one whose lease has run out, to Running
        held by ``worker_id`` for ``lease``, and return it; ``None`` when there is none.
        Each job is returned to one caller at a time.
        """
        ...

    async def renew_lease(self, report_id: str, worker_id: str, *, lease: dt.timedelta) -> bool:
        """
        Extend the lease; ``False`` when the job is no longer Running for ``worker_id``.
        """
        ...

    async def release_report(self, report_id: str, worker_id: str) -> None:
        """
        Put a job ``worker_id`` holds back to Pending (on shutdown), for another to take.
        """
        ...

    async def queued_reports(self) -> int:
        """
        Return how many jobs are Pending, over every process.
        """
        ...

    async def claim_refresh(self, every: dt.timedelta) -> bool:
        """
        Return ``True`` to one caller per ``every``: the process that should refresh now.
        """
        ...


class Repository(
    StoreSource,
    StoreLookup,
    PollSink,
    MetadataSink,
    MetadataSource,
    IngestStore,
    ReportStore,
    Protocol,
):
    """
    A whole backend, as ``storemon.storage.open_repository`` yields it.
    """
