"""
Repository protocols: what the service reads and writes, split by consumer.

Every backend (``storemon.storage.memory``, ``.sqlite``, ``.postgres``) implements all of
them, structurally (nothing inherits), so no caller asks what a backend can do; a faster
path one backend offers lives inside it, behind the same method and contract. Only model
values and plain tuples cross: no rows, cursors or driver objects. Instants are aware UTC
datetimes at this surface; poll rows use microseconds since the epoch because there are
millions of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from storemon.model import (
    HoursRecord,
    HoursRow,
    PollRecord,
    Rejected,
    ReportJob,
    ReportPosition,
    ReportShard,
    ReportSummary,
    ShardResult,
    SourceState,
    SpecialHoursRecord,
    StoreRange,
    StoreSnapshot,
    ZoneRecord,
)

#: How long a write that an HTTP request waits for (a trigger's new job, pushed polls, a
#: store's hours or zone) may wait for the write lock before it gives up with
#: ``StorageBusy``: an answer never waits behind another process's ingest.
REQUEST_WAIT = dt.timedelta(seconds=0.5)


class StoreSource(Protocol):
    """
    Read access for reports.
    """

    async def latest_poll_at(self) -> dt.datetime | None:
        """
        Return the latest poll instant over all stores, or ``None`` when there is none.
        """
        ...

    def snapshots(
        self,
        *,
        since: dt.datetime,
        as_of: dt.datetime,
        max_gap_us: int | None = None,
        stores: StoreRange | None = None,
    ) -> AsyncIterator[StoreSnapshot]:
        """
        Yield one snapshot per store that has a poll at or before ``as_of`` (and whose id
        is in ``stores``, when given: a shard of a report reads its range only, its
        polls, hours, special hours and zones alike).

        Each holds the store's zone key (or ``None``), its hours rows (empty if none), its
        special-hours rows (at least those whose date can touch ``[since, as_of]``, see
        ``storemon.localtime.window_dates``; more change nothing), and its polls at or
        after ``since`` and at or before ``as_of`` plus its latest poll before ``since``,
        strictly increasing in time, one per instant (the later ingested wins). Stores come
        in no particular order, all from one consistent state of the data, in a single
        pass (never one query per store).

        A snapshot may leave out any of those polls whose status equals the statuses of
        the polls just before and after it (never its first or last poll): that changes
        no number of the report (``storemon.uptime.kept_polls`` proves it and decides
        which polls are kept). SQLite sends that thinner stream; the others send every poll.
        With ``max_gap_us`` (the report's maximum gap) a thinned snapshot also keeps both
        polls of every gap over it and says which they are in ``gap_after``
        (``storemon.uptime.kept_polls_with_gaps``); one with every poll leaves
        ``gap_after`` ``None``.
        """
        ...


class StoreSplit(Protocol):
    """
    The stores cut into ranges, for a report computed in several processes at once.
    """

    async def split_stores(self, parts: int, *, min_stores: int = 1) -> list[StoreRange]:
        """
        Return at most ``parts`` ranges of about equal numbers of the stores with polls,
        each of at least ``min_stores`` (but when there is one range), in order, that
        together hold every store id (``storemon.model.split_stores``): the
        ``snapshots(stores=...)`` of each, together, are the whole report's.
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
        Return the store's snapshot as ``snapshots`` would yield it, but with every poll
        (a picture shows them all), or ``None`` when the store has no poll at or before
        ``as_of``.
        """
        ...


class PollStage(Protocol):
    """
    Polls set aside for one merge (``PollSink.stage_polls``).

    Staging holds no lock on the stored data: reading and parsing a large file happens
    here, while other writers (a request's new report, another process) go on; only the
    merge, one short step, takes the write lock.
    """

    async def add(self, polls: Iterable[PollRecord]) -> int:
        """
        Stage ``polls`` after those staged before, pulling them in batches (never all in
        memory on the SQL backends); return how many. Readers see none of them, and no
        other writer waits for this.
        """
        ...

    async def add_batches(self, batches: Iterable[Sequence[PollRecord]]) -> int:
        """
        ``add`` the polls of ``batches`` in order, a batch at a time (an ingest's parsed
        chunks, which may be ``PollColumns``); return how many.
        """
        ...

    async def merge(self) -> int:
        """
        Upsert the staged polls in one transaction (joining this task's, if any) as
        ``add_polls`` would upsert them in staging order: a later staged row for an
        instant wins, and every row that is new or changes what is stored at its instant
        counts. Return that count; the stage is empty afterwards. The backends merge in
        key order, so that the stored index is walked once, not once per row.
        """
        ...


class PollSink(Protocol):
    """
    Write access for status rows.
    """

    async def add_polls(self, polls: Iterable[PollRecord]) -> int:
        """
        Upsert polls keyed by (store id, instant); a later row for an instant replaces the
        status. Return how many rows were new or changed a stored status (each row
        counts: two rows for one instant with different statuses count twice).
        """
        ...

    def stage_polls(self) -> AbstractAsyncContextManager[PollStage]:
        """
        A new, empty stage for polls, private to this task, discarded at the end of the
        block (merged or not): ``add_polls`` is ``add`` then ``merge`` on one.
        """
        ...

    async def prune_polls(self, before: dt.datetime) -> int:
        """
        Delete every poll earlier than ``before`` except each store's latest one earlier
        than it; return how many were deleted.

        What is kept is all that a report whose week starts at or after ``before`` reads
        (its polls in the week and each store's latest poll before the week), so every
        such report is unchanged, byte for byte. The deletes run in short transactions,
        one range of stores at a time, so ingests and report claims never wait long; a
        prune stopped halfway has finished some ranges, and the next one does the rest.
        Inside a caller's ``transaction()`` the ranges join it.
        """
        ...


class MetadataSink(Protocol):
    """
    Write access for the three snapshot tables: business hours, time zones and special
    hours.
    """

    async def replace_hours(self, rows: Iterable[HoursRecord]) -> int:
        """
        Replace every business-hours row with ``rows``, atomically, reading them once and
        never holding them all in memory; return how many of them (a repeated row each
        time) were not stored before.
        """
        ...

    async def replace_zones(self, rows: Iterable[ZoneRecord]) -> int:
        """
        Replace every time-zone row with ``rows``, atomically (a later row for a store
        wins), reading them once; return how many of them differ from the zone stored
        before for their store (a store without one counts).
        """
        ...

    async def replace_special_hours(self, rows: Iterable[SpecialHoursRecord]) -> int:
        """
        Replace every special-hours row with ``rows``, atomically, reading them once;
        return how many of them (a repeated row each time) were not stored before.
        """
        ...

    async def replace_store_hours(self, store_id: str, rows: Sequence[HoursRow]) -> int:
        """
        Replace one store's business-hours rows with ``rows`` (none: the store has no
        rows, so it is open 24x7), leaving every other store's as they are; return how
        many of them (a repeated row each time) were not stored for it before.
        """
        ...

    async def replace_store_zone(self, store_id: str, zone_key: str) -> bool:
        """
        Set one store's time zone; return whether it differs from the one stored before
        (a store without one counts).
        """
        ...

    async def snapshot_rows(self, kind: str) -> int:
        """
        Return how many rows the snapshot of ``kind`` holds (``SourceKind.label`` of a
        snapshot kind: ``business_hours``, ``timezones``, ``special_hours``), identical
        rows once, as seen
        by this task (inside its transaction, its own writes included): ingestion counts
        before and after replacing one, to refuse a file that removes most of it.
        """
        ...


class MetadataSource(Protocol):
    """
    Read access to the three snapshot tables as they are stored.
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

    async def special_hours_rows(self) -> list[SpecialHoursRecord]:
        """
        Return every special-hours row (identical rows at most once), in no order.
        """
        ...


class IngestStore(Protocol):
    """
    What ingestion keeps besides the data: one transaction per source, the state of each
    source for incremental refresh, the rows that were rejected, and when the last
    refresh ran.
    """

    def transaction(self, *, wait: dt.timedelta | None = None) -> AbstractAsyncContextManager[None]:
        """
        Group the writes of the current task into one transaction.

        Every write made inside (``add_polls``, ``replace_hours``, ``save_source_state``
        ...) commits at the end of the block, or none does if the block raises. Other
        tasks' writes wait until it ends; readers keep seeing the data as it was before.
        Nested blocks join the outer one.

        With ``wait`` (a request is waiting: ``REQUEST_WAIT``), wait at most that long for
        the other writers, of this process and of every other process on the database,
        and raise ``StorageBusy`` after instead of waiting on.
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

    async def claim_refresh(self, every: dt.timedelta) -> bool:
        """
        Return ``True`` when no refresh was claimed within ``every`` before now, and record
        this one; ``False`` otherwise. Over every process sharing the database, one caller
        per ``every`` gets ``True``: the one that should refresh now.
        """
        ...


class ReportStore(Protocol):
    """
    Durable report jobs, and the queue the server's workers claim them from.

    A job is Pending when created, Running while a worker holds it (with a lease), and
    then Complete with its CSV or Failed with the reason. The queue is the database's on
    every backend, so that jobs survive restarts and several processes can share it.
    """

    async def create_report(
        self,
        report_id: str,
        *,
        as_of: dt.datetime | None,
        created_at: dt.datetime,
        max_gap: dt.timedelta | None = None,
    ) -> ReportJob:
        """
        Store a new job in state Pending, with the maximum gap it is to be computed with
        (``None``: none), and return it.
        """
        ...

    async def finish_report(self, report_id: str, *, csv: str, finished_at: dt.datetime) -> None:
        """
        Move an unfinished job to Complete with its CSV.

        A job already Complete or Failed is left as it is: its ender is a worker that lost
        its lease while another took the job over and ended it. Raises ``ReportNotFound``.
        """
        ...

    async def fail_report(self, report_id: str, *, error: str, finished_at: dt.datetime) -> None:
        """
        Move an unfinished job to Failed with the reason, as ``finish_report`` does.
        """
        ...

    async def get_report(self, report_id: str) -> ReportJob:
        """
        Return a job. Raises ``ReportNotFound``.
        """
        ...

    async def list_reports(
        self, limit: int, *, before: ReportPosition | None = None
    ) -> list[ReportSummary]:
        """
        Return at most ``limit`` jobs, newest first, without their CSV; with ``before``,
        only the jobs after that place in the list (the next page).

        Newest first is by creation time, then by report id, greatest first, compared
        character by character (code point order) on every backend: jobs created at the
        same instant keep one order, so passing the last job's ``position`` as ``before``
        lists each job exactly once, page after page.
        """
        ...

    async def delete_reports(self, finished_before: dt.datetime) -> int:
        """
        Delete the Complete and Failed jobs that finished before ``finished_before``;
        return how many. Pending and Running jobs are never deleted.
        """
        ...

    async def claim_report(self, worker_id: str, *, lease: dt.timedelta) -> ReportJob | None:
        """
        Move the oldest Pending job, or a Running one whose lease has run out (or that has
        none), to Running held by ``worker_id`` for ``lease``, and return it; ``None`` when
        there is none. Each job is returned to one caller at a time.
        """
        ...

    async def renew_lease(self, report_id: str, worker_id: str, *, lease: dt.timedelta) -> bool:
        """
        Hold the job for ``lease`` from now; ``False`` when it is no longer Running for
        ``worker_id``.
        """
        ...

    async def release_report(self, report_id: str, worker_id: str) -> None:
        """
        Put a job ``worker_id`` holds back to Pending (on shutdown), for another to take;
        nothing happens when it no longer holds the job.
        """
        ...

    async def queued_reports(self) -> int:
        """
        Return how many jobs are Pending, over every process.
        """
        ...

    async def wait_for_work(self, seconds: float) -> bool:
        """
        Wait at most ``seconds`` for report work to be queued (a job created, a
        job's shards planned, a job or shard handed back): by this process on every
        backend, and by any process on the database on PostgreSQL (notifications); return
        whether woken. A wake may be spurious and one may be missed (a lease running out
        wakes no one; notifications are lost with their connection), so a caller looks at
        the queue whatever this returns, at least once per ``seconds``. Never raises but
        for cancellation.
        """
        ...

    # Shards: a job's stores split into ranges that workers of every process compute.

    async def plan_shards(self, report_id: str, *, max_stores: int) -> int:
        """
        Split the job into the fewest shards of at most ``max_stores`` stores each, as
        equal as they can be (``storemon.model.shard_stride``; every store with
        a poll, in code point order of ids; ``storemon.model.store_ranges``), numbered
        from 0, all Pending, and return how many; a job already split keeps its shards
        (and their count is returned), so planning again after a takeover changes
        nothing. A job with no store gets none. Raises ``ReportNotFound``.
        """
        ...

    async def claim_shard(
        self, worker_id: str, *, lease: dt.timedelta, report_id: str | None = None
    ) -> ReportShard | None:
        """
        Move a Pending shard of an unfinished job, or a Running one whose lease has run
        out, to Running held by ``worker_id`` for ``lease`` and return it (of the oldest
        job first, its lowest number first; of ``report_id`` only, when given); ``None``
        when there is none. Each shard is returned to one caller at a time.
        """
        ...

    async def renew_shard(
        self, report_id: str, number: int, worker_id: str, *, lease: dt.timedelta
    ) -> bool:
        """
        Hold the shard for ``lease`` from now; ``False`` when it is no longer Running for
        ``worker_id``.
        """
        ...

    async def release_shard(self, report_id: str, number: int, worker_id: str) -> None:
        """
        Put a shard ``worker_id`` holds back to Pending (on shutdown); nothing happens when
        it no longer holds it.
        """
        ...

    async def finish_shard(self, result: ShardResult, *, report_id: str) -> int:
        """
        Store a computed shard as Done, whoever holds it (every computation of a shard
        gives the same lines); a shard already Done, or gone with its job, is left as it
        is. Return how many of the job's shards are not Done then: finishers of one job
        take turns, so exactly one of them (the last) sees 0, and assembles the report.
        A job gone (ended) has none left either.
        """
        ...

    async def shard_results(self, report_id: str) -> list[ShardResult] | None:
        """
        Return the job's shards in number order once every one is Done (``[]`` for a job
        not split or split into none), ``None`` while one is not, cheaply (no shard's
        lines are read until all are Done). Ending the job (``finish_report``,
        ``fail_report``) deletes its shards.
        """
        ...


class Health(Protocol):
    """
    Whether the database answers, for health checks.
    """

    async def ping(self) -> None:
        """
        Return once the database has answered a trivial request.

        Raises:
            StorageError: it does not answer (soon).
        """
        ...


class Repository(
    StoreSource,
    StoreSplit,
    StoreLookup,
    PollSink,
    MetadataSink,
    MetadataSource,
    IngestStore,
    ReportStore,
    Health,
    Protocol,
):
    """
    A whole backend, as ``storemon.storage.open_repository`` yields it.
    """
