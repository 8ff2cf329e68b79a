"""
Retention: delete polls and finished reports that no report in the kept range needs.

``prune`` is what ``storemon prune`` and ``storemon serve --retention`` run. The cut for
polls is relative to the newest stored poll, not to the clock: data that stopped
arriving (or a historical data set, like the sample's January 2023) keeps its last
``keep`` of polls instead of losing everything. Each store keeps its latest poll before
the cut as well (``PollSink.prune_polls``), so every report whose week starts at or after
the cut is unchanged, byte for byte. Finished reports are cut by the clock: they are
deleted once they finished more than ``keep_reports`` ago; Pending and Running jobs never.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Protocol

import attrs

from storemon.repository import PollSink, ReportStore, StoreSource


class PrunableRepository(PollSink, StoreSource, ReportStore, Protocol):
    """
    What a prune uses of a repository (every backend is one).
    """


@attrs.frozen
class PruneSummary:
    """
    What a prune deleted, and where it cut.
    """

    #: Polls before this instant were deleted, but each store's latest one before it;
    #: ``None`` when polls were not pruned (not asked, no polls, or nothing that old).
    polls_before: dt.datetime | None
    polls_deleted: int
    #: Finished reports that finished before this instant were deleted; ``None`` when
    #: reports were not pruned.
    reports_before: dt.datetime | None
    reports_deleted: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """
        The summary as JSON values (instants in ISO 8601).
        """

        def instant(at: dt.datetime | None) -> str | None:
            return None if at is None else at.isoformat()

        return {
            "polls_before": instant(self.polls_before),
            "polls_deleted": self.polls_deleted,
            "reports_before": instant(self.reports_before),
            "reports_deleted": self.reports_deleted,
            "seconds": round(self.seconds, 3),
        }


def poll_cut(newest: dt.datetime | None, keep: dt.timedelta) -> dt.datetime | None:
    """
    Return the instant before which polls go: ``keep`` before the newest poll; ``None``
    when there is no poll, or the cut would fall before the first representable instant
    (so nothing is that old).
    """
    if newest is None:
        return None
    try:
        return newest - keep
    except OverflowError:
        return None


def report_cut(now: dt.datetime, keep_reports: dt.timedelta) -> dt.datetime | None:
    """
    Return the instant before which finished reports go: ``keep_reports`` before ``now``;
    ``None`` when that is before the first representable instant.
    """
    try:
        return now - keep_reports
    except OverflowError:
        return None


async def prune(
    repository: PrunableRepository,
    *,
    keep: dt.timedelta | None,
    keep_reports: dt.timedelta | None,
    now: dt.datetime,
) -> PruneSummary:
    """
    Delete the polls older than ``keep`` before the newest poll (each store's latest one
    before the cut stays) and the finished reports that finished more than
    ``keep_reports`` before ``now``; ``None`` leaves that kind alone.

    Raises:
        StorageError: the backend failed (what was deleted before stays deleted: every
            deletion keeps what the kept range needs).
    """
    started = time.perf_counter()
    polls_before = None
    polls_deleted = 0
    if keep is not None:
        polls_before = poll_cut(await repository.latest_poll_at(), keep)
        if polls_before is not None:
            polls_deleted = await repository.prune_polls(polls_before)
    reports_before = None
    reports_deleted = 0
    if keep_reports is not None:
        reports_before = report_cut(now, keep_reports)
        if reports_before is not None:
            reports_deleted = await repository.delete_reports(reports_before)
    return PruneSummary(
        polls_before=polls_before,
        polls_deleted=polls_deleted,
        reports_before=reports_before,
        reports_deleted=reports_deleted,
        seconds=time.perf_counter() - started,
    )
