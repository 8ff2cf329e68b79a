"""
Rows as the SQL backends store them, to and from model values.

Both SQL dialects store the same integers (``docs/storage.md``): instants as microseconds
since the Unix epoch, business-hours times as microseconds after local midnight, and the
same columns in the same order, so one mapping serves both.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any

from storemon.errors import DataError, ReportNotFound, StorageError
from storemon.model import (
    DAY_US,
    SECOND_US,
    HoursRecord,
    HoursRow,
    Rejected,
    ReportJob,
    ReportPosition,
    ReportShard,
    ReportSummary,
    ShardResult,
    SortedHours,
    SourceState,
    SpecialHoursRecord,
    SpecialHoursRow,
    StoreRange,
    from_epoch_us,
    sorted_hours,
    to_epoch_us,
)

#: A stored business-hours row of one store: weekday, start and end in microseconds.
HoursKey = tuple[int, int, int]

#: The table of each snapshot kind (``SourceKind.label``), in both SQL dialects.
SNAPSHOT_TABLES = {
    "business_hours": "hours",
    "timezones": "zones",
    "special_hours": "special_hours",
}


#: Stores per transaction of ``prune_polls``: at 12 weeks of hourly polls, about 150,000
#: rows deleted per transaction, a fraction of a second of SQLite's write lock.
PRUNE_STORES = 100


def store_ranges(store_ids: Sequence[str], size: int) -> list[tuple[str, str]]:
    """
    Return the first and last of each run of ``size`` consecutive ``store_ids`` (sorted),
    the bounds of the ranges a backend works through one transaction at a time.
    """
    return [
        (store_ids[start], store_ids[min(start + size, len(store_ids)) - 1])
        for start in range(0, len(store_ids), size)
    ]


def snapshot_table(kind: str) -> str:
    """
    Return the table of a snapshot kind.

    Raises:
        StorageError: ``kind`` is not a snapshot kind.
    """
    try:
        return SNAPSHOT_TABLES[kind]
    except KeyError:
        raise StorageError(f"no snapshot table holds {kind!r} rows") from None


def _time_us(value: int) -> dt.time:
    seconds, micros = divmod(value, SECOND_US)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return dt.time(hour, minute, second, micros)


def hours_row(day: int, start_us: int, end_us: int) -> HoursRow:
    """
    Rebuild a stored business-hours row (``end_us`` of a whole day is ``24:00:00``).

    Raises:
        DataError: the stored values are not a row (put there by hand, say).
    """
    shown = f"a stored business-hours row (day {day}, {start_us}, {end_us}) cannot be read"
    if not (0 <= start_us < DAY_US and 0 <= end_us <= DAY_US):
        raise DataError(f"{shown}: a time is outside the day")
    try:
        if end_us == DAY_US:
            return HoursRow(day, _time_us(start_us), dt.time(0), end_is_midnight=True)
        return HoursRow(day, _time_us(start_us), _time_us(end_us))
    except DataError as error:
        raise DataError(f"{shown}: {error}") from None


class HoursRows:
    """
    Rebuild stored hours rows, each distinct one once: most stores share a few, and
    building one (attrs validation) costs more than looking it up.
    """

    def __init__(self) -> None:
        self._made: dict[HoursKey, HoursRow] = {}
        #: ``store_rows`` by the stored values of a store's rows.
        self._stores: dict[tuple[HoursKey, ...], tuple[SortedHours, str | None]] = {}

    def row(self, day: int, start_us: int, end_us: int) -> HoursRow:
        """
        Return the row for these stored values.

        Raises:
            DataError: they are not a row.
        """
        key = (day, start_us, end_us)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = hours_row(day, start_us, end_us)
        return made

    def rows(
        self, days: Sequence[int] | None, starts: Sequence[int] | None, ends: Sequence[int] | None
    ) -> tuple[HoursRow, ...]:
        """
        Return the rows of one store from parallel columns (``None`` when it has none).

        Raises:
            DataError: one of them is not a row.
        """
        if not days or starts is None or ends is None:
            return ()
        return tuple(self.row(*key) for key in zip(days, starts, ends, strict=True))

    def store_rows(self, keys: Iterable[HoursKey]) -> tuple[SortedHours, str | None]:
        """
        Return the rows of one store, sorted (``sorted_hours``), and ``None``; or no rows
        and why one of them cannot be read (``StoreSnapshot.problem``): a report leaves
        such a store out and goes on. Stores with the same stored rows share one answer.
        """
        stored = tuple(keys)
        made = self._stores.get(stored)
        if made is None:
            try:
                made = sorted_hours(self.row(*key) for key in stored), None
            except DataError as error:
                made = SortedHours(), str(error)
            self._stores[stored] = made
        return made


def hours_values(rows: Iterable[HoursRecord]) -> Iterator[tuple[str, int, int, int]]:
    """
    Yield business-hours records as stored: store id, weekday, start and end.
    """
    for store_id, row in rows:
        yield store_id, row.day, row.start_us, row.end_us


#: The stored times of a special row closed all that date (a primary key has no NULL).
CLOSED_US = -1

#: The 1970-01-01 ordinal: stored special dates are days since then.
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

#: A stored special-hours row of one store: day number, start and end in microseconds.
SpecialKey = tuple[int, int, int]


def special_values(rows: Iterable[SpecialHoursRecord]) -> Iterator[tuple[str, int, int, int]]:
    """
    Yield special-hours records as stored: store id, the date as days since 1970-01-01,
    start and end (``CLOSED_US`` both on a closed row).
    """
    for store_id, row in rows:
        day = row.date.toordinal() - _EPOCH_ORDINAL
        if row.is_closed:
            yield store_id, day, CLOSED_US, CLOSED_US
        else:
            yield store_id, day, row.start_us, row.end_us


def special_row(day: int, start_us: int, end_us: int) -> SpecialHoursRow:
    """
    Rebuild a stored special-hours row.

    Raises:
        DataError: the stored values are not a row (put there by hand, say).
    """
    shown = f"a stored special-hours row (day {day}, {start_us}, {end_us}) cannot be read"
    try:
        date = dt.date.fromordinal(day + _EPOCH_ORDINAL)
    except (ValueError, OverflowError):
        raise DataError(f"{shown}: the date is out of range") from None
    if start_us == CLOSED_US and end_us == CLOSED_US:
        return SpecialHoursRow(date)
    if not (0 <= start_us < DAY_US and 0 <= end_us <= DAY_US):
        raise DataError(f"{shown}: a time is outside the day")
    try:
        if end_us == DAY_US:
            return SpecialHoursRow(date, _time_us(start_us), dt.time(0), end_is_midnight=True)
        return SpecialHoursRow(date, _time_us(start_us), _time_us(end_us))
    except DataError as error:
        raise DataError(f"{shown}: {error}") from None


def store_special_rows(
    keys: Iterable[SpecialKey],
) -> tuple[tuple[SpecialHoursRow, ...], str | None]:
    """
    Return the special rows of one store and ``None``; or none and why one of them
    cannot be read (``StoreSnapshot.problem``), as ``HoursRows.store_rows``.
    """
    try:
        return tuple(special_row(*key) for key in keys), None
    except DataError as error:
        return (), str(error)


def special_days_around(since_us: int, as_of_us: int) -> tuple[int, int]:
    """
    Return the first and last stored day numbers a snapshot of ``[since_us, as_of_us]``
    sends: every date whose intervals can reach into it in any zone (UTC offsets are
    under a day, and an interval starts at most a day before it ends). More days than
    needed change nothing (``localtime.window_dates`` picks the ones that matter).
    """
    return since_us // DAY_US - 3, as_of_us // DAY_US + 2


def _gap(value: int | None) -> dt.timedelta | None:
    return None if value is None else dt.timedelta(microseconds=value)


def gap_us(value: dt.timedelta | None) -> int | None:
    """
    Return a maximum gap as stored: whole microseconds, or ``None``.
    """
    if value is None:
        return None
    return (value.days * 86_400 + value.seconds) * SECOND_US + value.microseconds


def new_store_hours(stored: Iterable[Sequence[int]], rows: Sequence[HoursRow]) -> int:
    """
    Return how many of one store's new ``rows`` (a repeated row each time) are not among
    its ``stored`` rows (weekday, start and end as stored), as ``replace_store_hours``
    counts them on every backend.
    """
    before = {tuple(key) for key in stored}
    return sum((row.day, row.start_us, row.end_us) not in before for row in rows)


def report_job(row: Sequence[Any]) -> ReportJob:
    """
    Return the job of a row ``(report_id, status, as_of, created_at, finished_at, csv,
    error, max_gap_us)``.
    """
    *head, csv, error, max_gap_us = row
    return ReportJob(*_report_head(head), csv=csv, error=error, max_gap=_gap(max_gap_us))


def found_job(found: Sequence[Sequence[Any]], report_id: str) -> ReportJob:
    """
    Return the job of the one row a lookup by id found.

    Raises:
        ReportNotFound: it found none.
    """
    if not found:
        raise ReportNotFound(f"no report has id {report_id!r}")
    return report_job(found[0])


def report_summary(row: Sequence[Any]) -> ReportSummary:
    """
    Return the summary of a row ``(report_id, status, as_of, created_at, finished_at,
    row_count)``.
    """
    *head, row_count = row
    return ReportSummary(*_report_head(head), rows=row_count)


def _report_head(
    values: Sequence[Any],
) -> tuple[str, str, dt.datetime | None, dt.datetime, dt.datetime | None]:
    # The columns every report row starts with: id, status, as_of, created_at, finished_at.
    report_id, status, as_of, created_at, finished_at = values
    return report_id, status, instant(as_of), from_epoch_us(created_at), instant(finished_at)


def csv_rows(csv: str) -> int:
    """
    Return the rows of a report CSV, its header not counted.
    """
    return max(csv.count("\n") - 1, 0)


def instant(value: int | None) -> dt.datetime | None:
    """
    Return the instant of microseconds since the epoch, or ``None``.
    """
    return None if value is None else from_epoch_us(value)


def position_values(position: ReportPosition | None) -> dict[str, int | str | None]:
    """
    Return a place in the list of reports as the query's ``before_at`` (microseconds since
    the epoch) and ``before_id``, both ``None`` for the first page.
    """
    if position is None:
        return {"before_at": None, "before_id": None}
    return {"before_at": to_epoch_us(position.created_at), "before_id": position.report_id}


def epoch_us(value: dt.datetime | None) -> int | None:
    """
    Return microseconds since the epoch of an instant, or ``None``.
    """
    return None if value is None else to_epoch_us(value)


def source_state(row: Sequence[Any]) -> SourceState:
    """
    Return the source state of a row in the column order of ``source_state_values``.
    """
    kind, source, size, content_hash, offset, prefix_hash, lines, ingested_at = row[:8]
    mtime_ns, etag, last_modified = row[8:]
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


def source_state_values(state: SourceState) -> tuple[Any, ...]:
    """
    Return a source state as stored: kind, source, size, content_hash, offset_bytes,
    prefix_hash, lines, ingested_at, mtime_ns, etag, last_modified.
    """
    return (
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


#: The stored columns of a rejected row, in the order of ``reject_values``.
REJECT_COLUMNS = ("source", "line", "column", "reason", "text", "ingested_at")


def reject_values(
    rejects: Iterable[Rejected], ingested_at: dt.datetime
) -> list[tuple[str, int, str | None, str, str, int]]:
    """
    Return rejected rows as stored, in ``REJECT_COLUMNS`` order.
    """
    at_us = to_epoch_us(ingested_at)
    return [
        (item.source, item.line, item.column, item.reason, item.text, at_us) for item in rejects
    ]


#: The state of a computed shard, in both SQL dialects (the others are the job's).
SHARD_DONE = "Done"


def range_values(stores: StoreRange | None) -> dict[str, str | None]:
    """
    Return a range of stores as the queries' ``first`` and ``end`` (``None``: open).
    """
    stores = StoreRange() if stores is None else stores
    return {"first": stores.first, "end": stores.end}


def report_shard(row: Sequence[Any], as_of: int | None, max_gap_us: int | None) -> ReportShard:
    """
    Return the shard of a row ``(report_id, number, first_store, end_store)`` of a job
    whose ``as_of`` and maximum gap are given in microseconds.
    """
    report_id, number, first, end = row
    return ReportShard(
        report_id, number, StoreRange(first, end), instant(as_of), max_gap=_gap(max_gap_us)
    )


def skipped_text(skipped: Sequence[str]) -> str:
    """
    Return the stores a shard left out as stored: a JSON array of their reasons.
    """
    return json.dumps(list(skipped))


def shard_results(rows: Sequence[Sequence[Any]]) -> list[ShardResult] | None:
    """
    Return a job's shards from rows ``(number, status, lines, skipped)`` in number order,
    or ``None`` while one of them is not Done.
    """
    if any(status != SHARD_DONE for _, status, _, _ in rows):
        return None
    return [
        ShardResult(number, lines, tuple(json.loads(skipped))) for number, _, lines, skipped in rows
    ]


class ByStore:
    """
    Rows ordered by store id (the first column), fetched a batch at a time by ``fetch``
    (empty at the end) and handed out store by store: a merge of two such streams (the
    staged stores and their stored days) awaits only when a batch runs out, not once per
    store. Each SQL backend gives its own ``fetch``: a cursor's ``fetchmany`` on SQLite,
    a ``FETCH`` from a declared cursor on PostgreSQL.
    """

    def __init__(self, fetch: Callable[[], Awaitable[Sequence[Any]]]) -> None:
        self._fetch = fetch
        self._rows: Sequence[Any] = []
        self._at = 0
        self._done = False

    async def _more(self) -> bool:
        if not self._done:
            self._rows, self._at = await self._fetch(), 0
            self._done = not self._rows
        return not self._done

    async def of(self, store_id: str) -> list[Any]:
        """
        The rows of ``store_id``, after skipping those of lower ids (ids asked for must
        increase).
        """
        found: list[Any] = []
        while True:
            rows, at = self._rows, self._at
            while at < len(rows) and rows[at][0] < store_id:
                at += 1
            while at < len(rows) and rows[at][0] == store_id:
                found.append(rows[at])
                at += 1
            self._at = at
            if at < len(rows) or not await self._more():
                return found

    async def next_store(self) -> list[Any]:
        """
        The rows of the next store; empty at the end.
        """
        if self._at >= len(self._rows) and not await self._more():
            return []
        return await self.of(self._rows[self._at][0])
