"""
A real in-memory backend and a manual clock, for tests (yours too) and notebooks.

``InMemoryRepository`` is the reference backend: every other backend must pass the same
contract tests and give the same reports.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import Any

import attrs

from storemon.errors import ReportNotFound
from storemon.model import (
    HoursRow,
    ReportJob,
    ReportStatus,
    StoreSnapshot,
    from_epoch_us,
    to_epoch_us,
)
from storemon.sources import HoursRecord, PollRecord, ZoneRecord


class InMemoryRepository:
    """
    Polls, hours and zones held in dictionaries; satisfies the repository protocols.
    """

    def __init__(self) -> None:
        self._polls: dict[str, dict[int, bool]] = defaultdict(dict)
        self._hours: dict[str, list[HoursRow]] = {}
        self._zones: dict[str, str] = {}
        self._reports: dict[str, ReportJob] = {}

    async def __aenter__(self) -> InMemoryRepository:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    # PollSink

    async def add_polls(self, polls: Iterable[PollRecord]) -> int:
        changed = 0
        for store_id, at_us, active in polls:
            store = self._polls[store_id]
            if store.get(at_us) is not active:
                changed += 1
                store[at_us] = active
        return changed

    # MetadataSink

    async def replace_hours(self, rows: Iterable[HoursRecord]) -> None:
        hours: dict[str, list[HoursRow]] = defaultdict(list)
        for store_id, row in rows:
            hours[store_id].append(row)
        self._hours = dict(hours)

    async def replace_zones(self, rows: Iterable[ZoneRecord]) -> None:
        self._zones = dict(rows)

    # StoreSource

    async def latest_poll_at(self) -> dt.datetime | None:
        latest = max((max(polls) for polls in self._polls.values() if polls), default=None)
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
        since_us, as_of_us = to_epoch_us(since), to_epoch_us(as_of)
        for store_id, polls in self._polls.items():
            times = sorted(at for at in polls if at <= as_of_us)
            if not times:
                continue
            before = [at for at in times if at < since_us]
            kept = ([before[-1]] if before else []) + [at for at in times if at >= since_us]
            yield StoreSnapshot(
                store_id=store_id,
                zone_key=self._zones.get(store_id),
                hours=tuple(self._hours.get(store_id, ())),
                poll_at_us=tuple(kept),
                poll_active=tuple(polls[at] for at in kept),
            )

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
