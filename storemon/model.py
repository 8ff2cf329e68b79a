"""
Frozen domain values: polls, business hours, special hours, store snapshots, reports, and
the records that cross between the CSV readers, ingestion and the storage backends
(``PollRecord``, ``HoursRecord``, ``ZoneRecord``, ``SpecialHoursRecord``, ``Rejected``,
``SourceInfo``, ``SourceState``).

Instants are aware UTC ``datetime`` values at the public surface. Inside a
``StoreSnapshot`` the polls are kept as plain integers (microseconds since the Unix
epoch, UTC) because the engine reads millions of them and per-poll objects cost more than
the arithmetic (see ``docs/design.md``).
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from typing import Any, TypeAlias, overload

import attrs

from storemon.errors import DataError, bounded

#: A store id is an opaque string: real ids are 19-digit decimals beyond 2**53 or UUIDs.
StoreId = str

#: A store without a time-zone row lives in this zone (SEMANTICS.md, "Defaults").
DEFAULT_ZONE_KEY = "America/Chicago"

#: Days of the week as used by business hours: 0 = Monday ... 6 = Sunday.
WEEKDAYS = range(7)

UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = 1
SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
WEEK_US = 7 * DAY_US


def utc_instant(value: dt.datetime) -> dt.datetime:
    """
    Return ``value`` as an aware UTC datetime; refuse naive values.
    """
    if not isinstance(value, dt.datetime):
        raise DataError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise DataError(f"naive datetime {value.isoformat()} has no time zone; give it UTC")
    return value.astimezone(dt.UTC)


def to_epoch_us(value: dt.datetime) -> int:
    """
    Return microseconds since the Unix epoch of an aware datetime.
    """
    delta = utc_instant(value) - UNIX_EPOCH
    return (delta.days * 86_400 + delta.seconds) * SECOND_US + delta.microseconds


def from_epoch_us(value: int) -> dt.datetime:
    """
    Return the aware UTC datetime of microseconds since the Unix epoch.
    """
    return UNIX_EPOCH + dt.timedelta(microseconds=value)


def _time_of_day_us(value: dt.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * SECOND_US + value.microsecond


@attrs.frozen
class Poll:
    """
    One observation of one store: active or not at an instant.
    """

    store_id: StoreId
    #: The instant of the poll, normalised to UTC; naive datetimes are refused.
    at: dt.datetime = attrs.field(converter=utc_instant)
    #: ``True`` for ``active``, ``False`` for ``inactive``.
    active: bool

    @property
    def at_us(self) -> int:
        """
        Microseconds since the Unix epoch.
        """
        return to_epoch_us(self.at)


@attrs.frozen(order=True, cache_hash=True)
class HoursRow:
    """
    One business-hours row: local wall-clock opening on one weekday.

    ``end_local`` not after ``start_local`` runs past midnight into the next day; an end of
    23:59:00 or later on a same-day row means midnight (SEMANTICS.md, "Business time").
    ``end_is_midnight`` carries an end written as ``24:00:00``, which ``datetime.time``
    cannot hold.
    """

    #: 0 = Monday ... 6 = Sunday.
    day: int = attrs.field()
    start_local: dt.time = attrs.field()
    end_local: dt.time = attrs.field()
    #: The end was written ``24:00:00`` (the end of the day).
    end_is_midnight: bool = False

    @day.validator
    def _check_day(self, _attribute: object, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value not in WEEKDAYS:
            raise DataError(f"day must be an integer 0 (Monday) to 6 (Sunday), got {value!r}")

    @start_local.validator
    @end_local.validator
    def _check_time(self, _attribute: object, value: dt.time) -> None:
        if not isinstance(value, dt.time) or value.tzinfo is not None:
            raise DataError(f"business hours take naive wall-clock times, got {value!r}")

    @property
    def start_us(self) -> int:
        """
        Microseconds from local midnight to the opening.
        """
        return _time_of_day_us(self.start_local)

    @property
    def end_us(self) -> int:
        """
        Microseconds from local midnight to the closing as written (24:00 is a full day).
        """
        return DAY_US if self.end_is_midnight else _time_of_day_us(self.end_local)


@attrs.frozen(cache_hash=True)
class SpecialHoursRow:
    """
    One special-hours row: the store's hours on one local calendar date, replacing its
    weekly rows for intervals that start on that date (SEMANTICS.md, "Special days").

    The times follow the rules of ``HoursRow`` (past midnight when the end is not after the
    start, ``start == end`` is 24 hours, a same-day end of 23:59:00 or later is midnight,
    ``end_is_midnight`` for ``24:00:00``). Both times ``None`` means closed all that date.
    """

    #: The store's local calendar date.
    date: dt.date = attrs.field()
    #: ``None`` (with ``end_local``) when the store is closed all that date.
    start_local: dt.time | None = attrs.field(default=None)
    end_local: dt.time | None = attrs.field(default=None)
    #: The end was written ``24:00:00`` (the end of the day).
    end_is_midnight: bool = False

    @date.validator
    def _check_date(self, _attribute: object, value: dt.date) -> None:
        # A datetime is a date too, but it names an instant, not a calendar date.
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise DataError(f"special hours take a calendar date, got {value!r}")

    @start_local.validator
    @end_local.validator
    def _check_time(self, _attribute: object, value: dt.time | None) -> None:
        if value is not None and (not isinstance(value, dt.time) or value.tzinfo is not None):
            raise DataError(f"special hours take naive wall-clock times, got {value!r}")

    def __attrs_post_init__(self) -> None:
        if (self.start_local is None) != (self.end_local is None):
            raise DataError(
                f"special hours on {self.date}: give both times, or neither for closed all day"
            )
        if self.end_is_midnight and self.start_local is None:
            raise DataError(f"special hours on {self.date}: a closed date has no end time")

    @property
    def is_closed(self) -> bool:
        """
        Whether the row says closed all that date.
        """
        return self.start_local is None

    @property
    def start_us(self) -> int:
        """
        Microseconds from local midnight to the opening (0 on a closed row).
        """
        return 0 if self.start_local is None else _time_of_day_us(self.start_local)

    @property
    def end_us(self) -> int:
        """
        Microseconds from local midnight to the closing as written (0 on a closed row).
        """
        if self.end_is_midnight:
            return DAY_US
        return 0 if self.end_local is None else _time_of_day_us(self.end_local)


def special_hours_key(row: SpecialHoursRow) -> tuple[dt.date, bool, dt.time, dt.time, bool]:
    """
    A total sort key for special rows: by date, closed rows first, then by the times.
    """
    midnight = dt.time(0)
    return (
        row.date,
        not row.is_closed,
        row.start_local or midnight,
        row.end_local or midnight,
        row.end_is_midnight,
    )


def _hours_key(row: HoursRow) -> tuple[int, dt.time, dt.time, bool]:
    return (row.day, row.start_local, row.end_local, row.end_is_midnight)


class SortedHours(tuple[HoursRow, ...]):
    """
    Weekly rows sorted and deduplicated, as ``StoreSnapshot.hours`` holds them: a backend
    that makes them once for every store with the same rows (``sorted_hours``) saves each
    snapshot the sort. Equal to the plain tuple of the same rows.
    """

    __slots__ = ()


def sorted_hours(rows: Iterable[HoursRow]) -> SortedHours:
    # Sorted and deduplicated so that equal hours are equal tuples (the engine caches on
    # them); a key function because attrs' generated ordering is slow.
    return SortedHours(sorted(set(rows), key=_hours_key))


def _hours_tuple(rows: Sequence[HoursRow]) -> tuple[HoursRow, ...]:
    return rows if type(rows) is SortedHours else sorted_hours(rows)


def _special_tuple(rows: Iterable[SpecialHoursRow]) -> tuple[SpecialHoursRow, ...]:
    # Sorted and deduplicated like weekly rows: equal special days are equal tuples.
    if rows == ():  # most stores have none
        return ()
    return tuple(sorted(set(rows), key=special_hours_key))


@attrs.frozen
class StoreSnapshot:
    """
    Everything the engine needs about one store for one report.

    ``poll_at_us`` holds microseconds since the Unix epoch (UTC), strictly increasing; a
    backend collapses polls at the same instant (the later ingested wins). It holds the
    polls inside the report's window and the latest poll before it, which decides the
    status at the start of the window; older polls may be present and change nothing.
    """

    store_id: StoreId
    #: IANA zone key; ``None`` when the store has no time-zone row.
    zone_key: str | None
    #: Weekly rows; empty when the store has none (open all the time).
    hours: tuple[HoursRow, ...] = attrs.field(converter=_hours_tuple)
    #: Poll instants, microseconds since the Unix epoch, strictly increasing.
    poll_at_us: Sequence[int]
    #: ``poll_active[i]`` is the status of the poll at ``poll_at_us[i]``.
    poll_active: Sequence[bool]
    #: Why the store's stored rows cannot be used (a backend that could not read one of
    #: them says so here instead of failing the whole stream); the report leaves the
    #: store out and names it (``SkippedStore``). ``None`` when they can.
    problem: str | None = None
    #: Special days (SEMANTICS.md, "Special days"); a backend may send only the rows whose
    #: date can touch the report's window (``localtime.window_dates``).
    special: tuple[SpecialHoursRow, ...] = attrs.field(default=(), converter=_special_tuple)
    #: With a maximum gap, for polls thinned by ``uptime.kept_polls_with_gaps``: the
    #: positions ``i`` where polls ``i`` and ``i + 1`` are a gap over the maximum (its
    #: ``gap_after``). ``None`` when the polls are complete (consecutive in the data), so
    #: the engine finds the gaps itself.
    gap_after: tuple[int, ...] | None = None

    def __attrs_post_init__(self) -> None:
        if len(self.poll_at_us) != len(self.poll_active):
            raise DataError(f"store {self.store_id}: poll times and statuses differ in length")


@attrs.frozen
class ReportRow:
    """
    Uptime and downtime of one store within business hours, exact.

    The last hour is in minutes, the day and week in hours, as exact fractions: round only
    when writing (``storemon.csvformat.format_value``). The unknown time (SEMANTICS.md,
    "Unknown time") is zero in a report without a maximum gap.
    """

    store_id: StoreId
    uptime_last_hour: Fraction
    uptime_last_day: Fraction
    uptime_last_week: Fraction
    downtime_last_hour: Fraction
    downtime_last_day: Fraction
    downtime_last_week: Fraction
    unknown_last_hour: Fraction = Fraction(0)
    unknown_last_day: Fraction = Fraction(0)
    unknown_last_week: Fraction = Fraction(0)


@attrs.frozen
class SkippedStore:
    """
    A store a report left out because what is stored of it cannot be read, and why.

    A report never fails for one store: stored rows that an older version let in (a NUL
    in a store id), or that were put there by hand (an unknown zone, a day 9), leave that
    store out of the report, which names it here and goes on.
    """

    store_id: StoreId
    reason: str = attrs.field(converter=bounded)

    def __str__(self) -> str:
        shown = self.store_id if len(self.store_id) <= 60 else self.store_id[:60] + "..."
        return f"store {shown!r} left out of the report: {self.reason}"


def _rows_tuple(rows: Iterable[ReportRow]) -> tuple[ReportRow, ...]:
    return tuple(rows)


def _skipped_tuple(stores: Iterable[SkippedStore]) -> tuple[SkippedStore, ...]:
    return tuple(stores)


def _count_rows(rows: tuple[ReportRow, ...]) -> str:
    return f"<{len(rows)} rows>"


@attrs.frozen
class Report:
    """
    The report: one row per store with a poll at or before ``as_of``, sorted by store id.
    """

    as_of: dt.datetime = attrs.field(converter=utc_instant)
    #: Shown as a count in the repr: a full report has 14,092 rows.
    rows: tuple[ReportRow, ...] = attrs.field(converter=_rows_tuple, repr=_count_rows)
    #: Stores left out because their stored rows cannot be read.
    skipped: tuple[SkippedStore, ...] = attrs.field(default=(), converter=_skipped_tuple)
    #: The maximum gap the report was computed with (SEMANTICS.md, "Unknown time"), or
    #: ``None``: then nothing is unknown and the report has the six columns.
    max_gap: dt.timedelta | None = None

    @property
    def header(self) -> tuple[str, ...]:
        """
        The report's columns: the six of SEMANTICS.md, and the three unknown ones after
        them when the report has a maximum gap.
        """
        from storemon.csvformat import report_header  # for reports only, not every model user

        return report_header(unknown=self.max_gap is not None)

    def to_csv(self) -> str:
        """
        Return the report as CSV text with the header of SEMANTICS.md (``header``).
        """
        from storemon.csvformat import csv_line, csv_text, format_value

        header = self.header
        measures = header[1:]
        return csv_text(
            (
                csv_line(row.store_id, [format_value(getattr(row, name)) for name in measures])
                for row in self.rows
            ),
            header=header,
        )

    def to_records(self) -> list[dict[str, str | float]]:
        """
        Return one dict per row, in the report's order: ``store_id`` (a string: ids are
        never numbers) and each measure of ``header`` as a float of its exact value, not
        rounded (the CSV rounds to two decimals; ``to_csv()`` has those).
        """
        measures = self.header[1:]
        return [
            {"store_id": row.store_id, **{name: float(getattr(row, name)) for name in measures}}
            for row in self.rows
        ]

    def to_pandas(self) -> Any:
        """
        Return the rows as a ``pandas.DataFrame`` (``to_records()``), ``as_of`` in its
        ``attrs``. pandas is optional: it is imported only here.

        Raises:
            ImportError: pandas is not installed (``pip install pandas``).
        """
        try:
            # By name, when called: pandas is optional, and only this method needs it.
            pandas = importlib.import_module("pandas")
        except ImportError:
            raise ImportError(
                "Report.to_pandas needs pandas, which storemon does not install: "
                "pip install pandas (or use report.to_records())"
            ) from None
        columns = list(self.header)
        frame = pandas.DataFrame.from_records(self.to_records(), columns=columns)
        frame["store_id"] = frame["store_id"].astype("string")
        frame.attrs["as_of"] = self.as_of
        return frame

    def _repr_html_(self) -> str:
        # Jupyter shows the summary and the first rows, not a repr of every row.
        from storemon.display import report_html

        return report_html(self)


class ReportStatus:
    """
    The states of a report job: Pending -> Running -> Complete or Failed.
    """

    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETE = "Complete"
    FAILED = "Failed"
    ALL = (PENDING, RUNNING, COMPLETE, FAILED)


@attrs.frozen
class ReportJob:
    """
    A report as stored: its state, its fixed ``as_of`` and, once complete, its CSV.
    """

    report_id: str
    #: One of ``ReportStatus.ALL``.
    status: str
    #: The report's "now", fixed when it was triggered; ``None`` when there were no polls.
    as_of: dt.datetime | None
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    #: The report CSV once complete.
    csv: str | None = None
    #: Why it failed.
    error: str | None = None
    #: The maximum gap it is computed with; ``None``: no unknown time, six columns.
    max_gap: dt.timedelta | None = None


@attrs.frozen
class ReportSummary:
    """
    A report as a list of reports shows it: its state and times, without the CSV.
    """

    report_id: str
    #: One of ``ReportStatus.ALL``.
    status: str
    as_of: dt.datetime | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    #: Rows of the complete report (one per store, the header not counted); ``None``
    #: until it is complete, and for a failed report.
    rows: int | None

    @property
    def position(self) -> ReportPosition:
        """
        Where the report stands in the list of reports: the cursor of the next page.
        """
        return ReportPosition(self.created_at, self.report_id)


@attrs.frozen
class StoreRange:
    """
    The store ids from ``first`` (included) up to ``end`` (left out), compared character by
    character (code point order, the report's row order, on every backend); ``None`` leaves
    that side open. ``StoreRange()`` holds every store.
    """

    first: str | None = None
    end: str | None = None

    def __contains__(self, store_id: object) -> bool:
        return (
            isinstance(store_id, str)
            and (self.first is None or store_id >= self.first)
            and (self.end is None or store_id < self.end)
        )


def shard_stride(store_count: int, max_stores: int) -> int:
    """
    Return how many stores each shard holds (the last may hold fewer) so that
    ``store_count`` stores make the fewest shards of at most ``max_stores``, as equal as
    they can be: 56,368 stores at most 10,000 a shard make 6 shards of 9,395 (the last
    9,393), not five of 10,000 and one of 6,368, so that two workers taking three shards
    each finish together.
    """
    max_stores = max(max_stores, 1)
    if store_count <= 0:
        return max_stores
    shards = -(-store_count // max_stores)
    return -(-store_count // shards)


def store_ranges(starts: Sequence[str]) -> list[StoreRange]:
    """
    Return the ranges that start at each of ``starts`` (sorted, the first store of each
    range) and together hold every store id: the first range is open below, the last
    above, so a store the ranges were not planned with still falls in exactly one.
    """
    bounds: list[str | None] = [None, *starts[1:], None]
    return [StoreRange(bounds[index], bounds[index + 1]) for index in range(len(starts))]


def split_stores(store_ids: Sequence[str], parts: int, min_stores: int = 1) -> list[StoreRange]:
    """
    Cut ``store_ids`` (sorted, each once) into at most ``parts`` ranges
    (``store_ranges``) whose numbers of them differ by one at most, in order, each of at
    least ``min_stores`` but when there is one; ``[StoreRange()]`` when there are none.
    """
    count = len(store_ids)
    parts = min(parts, count // max(min_stores, 1))
    if parts <= 1:
        return [StoreRange()]
    return store_ranges([store_ids[part * count // parts] for part in range(parts)])


@attrs.frozen
class ReportShard:
    """
    A part of a report job: the stores of one range, at the job's ``as_of``; ``number``
    orders a job's shards as their ranges (and their report lines) are ordered.
    """

    report_id: str
    number: int
    stores: StoreRange
    as_of: dt.datetime | None
    #: The job's maximum gap (``ReportJob.max_gap``): the shard is computed with it.
    max_gap: dt.timedelta | None = None


@attrs.frozen
class ShardResult:
    """
    A computed shard: its report lines (each ended by ``\n``, in store order, no header),
    and the stores it left out because their rows cannot be read (``str(SkippedStore)``).
    """

    number: int
    lines: str
    skipped: tuple[str, ...] = ()


@attrs.frozen(order=True)
class ReportPosition:
    """
    A place in the list of reports, which is ordered newest first by creation time, then
    by report id (compared character by character), so that reports created at the same
    instant still have one exact order and no page splits or repeats them.

    ``ReportPosition(instant, "")`` stands before every report created at ``instant``:
    listing before it lists the reports created before that instant.
    """

    created_at: dt.datetime
    report_id: str


# Records: what crosses between readers, ingestion and backends.

#: A good status row: store id, instant (microseconds since the epoch), active.
PollRecord: TypeAlias = tuple[str, int, bool]

#: A status byte (0 or 1) as the bool it stands for.
_BOOLS = (False, True)


class PollColumns(Sequence[PollRecord]):
    """
    Parsed polls as three columns, read as ``PollRecord`` tuples: the records of a batch
    of status lines in the common spelling, parsed a column at a time.

    Iterating makes each tuple as it is asked for, so a batch is never held twice, as
    columns and as a list of tuples: its readers (``PollBuffer.take``, ``group_polls``)
    unpack each tuple at once.
    """

    def __init__(
        self,
        store_ids: Sequence[str],
        instants: Sequence[int],
        actives: Sequence[bool] | bytes,
    ) -> None:
        # ``actives`` may be bytes of 0 and 1 (as sent between processes).
        self._store_ids = store_ids
        self._instants = instants
        self._actives = actives

    def columns(self) -> tuple[Sequence[str], Sequence[int], Sequence[bool] | bytes]:
        """
        The three columns as given (statuses as bools, or as bytes of 0 and 1), for a
        reader that walks them at once, faster than through tuples.
        """
        return self._store_ids, self._instants, self._actives

    def __len__(self) -> int:
        return len(self._store_ids)

    def __iter__(self) -> Iterator[PollRecord]:
        return zip(
            self._store_ids, self._instants, map(_BOOLS.__getitem__, self._actives), strict=True
        )

    @overload
    def __getitem__(self, index: int) -> PollRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[PollRecord]: ...

    def __getitem__(self, index: int | slice) -> PollRecord | list[PollRecord]:
        if isinstance(index, slice):
            return list(itertools.islice(self, *index.indices(len(self))))
        return self._store_ids[index], self._instants[index], bool(self._actives[index])


#: A good business-hours row.
HoursRecord: TypeAlias = tuple[str, HoursRow]
#: A good time-zone row: store id, IANA zone key.
ZoneRecord: TypeAlias = tuple[str, str]
#: A good special-hours row.
SpecialHoursRecord: TypeAlias = tuple[str, SpecialHoursRow]


#: Bytes of a rejected line that are kept with it (``Rejected.text``): enough to see what
#: was wrong, never the whole of an absurd line.
REJECTED_TEXT_BYTES = 1024


def _kept_text(text: str) -> str:
    """
    Return the start of ``text`` that fits in ``REJECTED_TEXT_BYTES`` of UTF-8, with NUL
    characters replaced (U+FFFD, as undecodable bytes are): no database stores them.
    """
    if len(text) * 4 > REJECTED_TEXT_BYTES:  # else short enough whatever its characters
        text = text.encode("utf-8", "replace")[:REJECTED_TEXT_BYTES].decode("utf-8", "ignore")
    return text.replace("\x00", "\ufffd")


@attrs.frozen
class Rejected:
    """
    A row that was not stored, and why.
    """

    source: str
    line: int
    #: The column at fault, or ``None`` when the row as a whole is wrong.
    column: str | None
    #: Why, at most ``errors.MAX_MESSAGE_CHARS`` characters.
    reason: str = attrs.field(converter=bounded)
    #: The original line, without its line end (undecodable bytes and NULs replaced), at
    #: most its first ``REJECTED_TEXT_BYTES`` bytes.
    text: str = attrs.field(converter=_kept_text)

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}"
        if self.column:
            where += f": column {self.column}"
        return f"{where}: {self.reason}"


@attrs.frozen
class SourceInfo:
    """
    What a source says about itself before it is read.
    """

    #: Bytes in the source, when known (file size, ``Content-Length``).
    size: int | None = None
    #: A file's modification time in nanoseconds.
    mtime_ns: int | None = None
    #: A URL's ``ETag`` header, if it sent one.
    etag: str | None = None
    #: A URL's ``Last-Modified`` header, if it sent one.
    last_modified: str | None = None


@attrs.frozen
class SourceState:
    """
    One source as its last successful ingest read it.
    """

    #: The input kind: ``status``, ``business_hours``, ``timezones`` or ``special_hours``.
    kind: str
    #: The absolute path of a file, or the URL.
    source: str
    #: Bytes read in total.
    size: int
    #: The fingerprint of all ``size`` bytes: for a file, ``sampled1:`` and the SHA-256 of
    #: the sampled ``prefix_hash`` and the bytes after ``offset``; for a URL (and a file
    #: recorded by an older version) the SHA-256 (hex) of every byte (``storemon.refresh``).
    content_hash: str
    #: The end of the last complete line (one ending in a line feed) read.
    offset: int
    #: The fingerprint of the bytes before ``offset``: for a file, ``sampled1:`` and the
    #: SHA-256 of samples of them (``storemon.refresh.sample_ranges``); for a URL the
    #: SHA-256 (hex) of every one.
    prefix_hash: str
    #: How many lines (the header included) end at or before ``offset``.
    lines: int
    ingested_at: dt.datetime
    #: A file's modification time in nanoseconds; ``None`` for a URL.
    mtime_ns: int | None = None
    #: A URL's ``ETag`` header, if it sent one.
    etag: str | None = None
    #: A URL's ``Last-Modified`` header, if it sent one.
    last_modified: str | None = None
