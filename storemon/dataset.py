"""
The CSV inputs loaded into memory, and their report: the library's direct path.

``load_csv`` is what a notebook or ``storemon report --status ...`` calls. Polls are kept
per store as two parallel lists in file order (no per-poll objects); a store's polls are
sorted and collapsed to one per instant (the later row wins) only when its snapshot is
made.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import functools
import operator
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import attrs

from storemon.bulk import gc_paused
from storemon.errors import DataError, SourceError, StoreNotFound
from storemon.explain import StoreTimeline, explain_store
from storemon.fetch import open_file
from storemon.lines import MAX_LINE_BYTES, LineBuffer, SourceProgress
from storemon.model import (
    DEFAULT_ZONE_KEY,
    HoursRow,
    PollColumns,
    Rejected,
    Report,
    SpecialHoursRow,
    StoreSnapshot,
    from_epoch_us,
    to_epoch_us,
)
from storemon.report import ReportBuilder, report_line, window_start
from storemon.sources import Batch, SourceKind, read_batches

PathLike = str | os.PathLike[str]


def unpack_polls(packed: list[int]) -> tuple[list[int], list[bool]]:
    """
    Return one store's packed polls (in file order) as sorted instants and their statuses,
    one per instant: of two rows at the same instant the later one in the file wins.
    """
    ordered = sorted(packed)
    times = [value >> 1 for value in ordered]
    if len(set(times)) == len(times):
        return times, [bool(value & 1) for value in ordered]
    # Rare: repeated instants. Sort by time only (stable, so file order decides).
    out_times: list[int] = []
    out_actives: list[bool] = []
    for value in sorted(packed, key=lambda value: value >> 1):
        at, active = value >> 1, bool(value & 1)
        if out_times and out_times[-1] == at:
            out_actives[-1] = active
        else:
            out_times.append(at)
            out_actives.append(active)
    return out_times, out_actives


@attrs.define
class Dataset:
    """
    Polls, business hours and time zones in memory, with the rows that were rejected.
    """

    #: Per store: polls in file order, each packed into one int, ``at_us * 2 + active``
    #: (one list append per row, and a plain integer sort orders them by time).
    polls: dict[str, list[int]] = attrs.field(factory=dict)
    hours: dict[str, list[HoursRow]] = attrs.field(factory=dict)
    zones: dict[str, str] = attrs.field(factory=dict)
    rejected: list[Rejected] = attrs.field(factory=list)
    #: Per store: its special-hours rows (SEMANTICS.md, "Special days").
    special: dict[str, list[SpecialHoursRow]] = attrs.field(factory=dict)

    def latest_poll_at(self) -> dt.datetime | None:
        """
        The latest poll instant over all stores, or ``None`` without polls.
        """
        latest = max((max(packed) for packed in self.polls.values() if packed), default=None)
        return None if latest is None else from_epoch_us(latest >> 1)

    def snapshots(self, *, as_of: dt.datetime) -> Iterator[StoreSnapshot]:
        """
        Yield a snapshot of every store with polls, holding its polls up to ``as_of``.
        """
        since_us = to_epoch_us(window_start(as_of))
        for store_id, packed in self.polls.items():
            yield self._snapshot(store_id, packed, since_us)

    def _snapshot(self, store_id: str, packed: list[int], since_us: int) -> StoreSnapshot:
        times, actives = unpack_polls(packed)
        # Polls before the week change nothing but the status at its start.
        first = max(bisect.bisect_left(times, since_us) - 1, 0)
        return StoreSnapshot(
            store_id=store_id,
            zone_key=self.zones.get(store_id),
            hours=tuple(self.hours.get(store_id, ())),
            special=tuple(self.special.get(store_id, ())),
            poll_at_us=times[first:],
            poll_active=actives[first:],
        )

    def explain(
        self,
        store_id: str,
        as_of: dt.datetime | None = None,
        *,
        default_zone_key: str = DEFAULT_ZONE_KEY,
        max_gap: dt.timedelta | None = None,
    ) -> StoreTimeline:
        """
        Return one store's last week as the report sees it (``storemon.explain``).

        Raises:
            DataError: there is no poll and no ``as_of``.
            StoreNotFound: the store has no poll at or before ``as_of``.
        """
        as_of = self._as_of(as_of)
        packed = self.polls.get(store_id)
        timeline = None
        if packed:
            snapshot = self._snapshot(store_id, packed, to_epoch_us(window_start(as_of)))
            timeline = explain_store(
                snapshot, as_of=as_of, default_zone_key=default_zone_key, max_gap=max_gap
            )
        if timeline is None:
            raise StoreNotFound(f"store {store_id} has no poll at or before {as_of}")
        return timeline

    def report(
        self,
        as_of: dt.datetime | None = None,
        *,
        default_zone_key: str = DEFAULT_ZONE_KEY,
        max_gap: dt.timedelta | None = None,
    ) -> Report:
        """
        Compute the report; ``as_of`` defaults to the latest poll. With ``max_gap`` time
        further than half of it from every poll is unknown (SEMANTICS.md, "Unknown
        time") and the report has the three unknown columns.

        Raises:
            DataError: there is no poll and no ``as_of``, or the gap is not positive.
        """
        builder = ReportBuilder(
            self._as_of(as_of), default_zone_key=default_zone_key, max_gap=max_gap
        )
        return builder.extend(self.snapshots(as_of=builder.as_of)).report()

    def report_csv(
        self,
        as_of: dt.datetime | None = None,
        *,
        default_zone_key: str = DEFAULT_ZONE_KEY,
        max_gap: dt.timedelta | None = None,
    ) -> str:
        """
        Return ``self.report(as_of, max_gap=max_gap).to_csv()``, computed without
        ``ReportRow`` objects.

        Raises:
            DataError: there is no poll and no ``as_of``, or the gap is not positive.
        """
        as_of = self._as_of(as_of)
        builder = ReportBuilder(
            as_of, default_zone_key=default_zone_key, max_gap=max_gap, keep=report_line
        )
        return builder.extend(self.snapshots(as_of=as_of)).csv()

    def _as_of(self, as_of: dt.datetime | None) -> dt.datetime:
        if as_of is None:
            as_of = self.latest_poll_at()
            if as_of is None:
                raise DataError("there are no polls, so there is no latest poll; give as_of")
        return as_of


def _batches(
    kind: SourceKind,
    source: PathLike | IO[bytes],
    *,
    progress: SourceProgress | None = None,
    latest_at_us: int | None = None,
    max_line: int = MAX_LINE_BYTES,
) -> Iterator[Batch]:
    """
    Yield the batches of a whole source, opening and closing a path (whose reading is
    told to ``progress``).

    Raises:
        SourceError: the file cannot be opened or read, or its header lacks a column.
    """
    if isinstance(source, str | os.PathLike):
        stream, info = open_file(os.fspath(source))
        told = None if progress is None else functools.partial(progress, stream.source, info.size)
        with contextlib.closing(stream):
            lines = LineBuffer(stream.read, progress=told, max_line=max_line)
            yield from read_batches(kind, lines, stream.source, latest_at_us=latest_at_us)
        return
    name = getattr(source, "name", "<stream>")
    try:
        lines = LineBuffer(source.read, max_line=max_line)
        yield from read_batches(kind, lines, name, latest_at_us=latest_at_us)
    except OSError as error:
        raise SourceError(f"{name}: cannot read: {error.strerror or error}") from None


def _read(
    kind: SourceKind,
    source: PathLike | IO[bytes],
    dataset: Dataset,
    *,
    progress: SourceProgress | None,
    max_line: int,
) -> Iterator[Any]:
    """
    Yield the good records of a source; keep its rejected rows in ``dataset.rejected``.
    """
    for batch in _batches(kind, source, progress=progress, max_line=max_line):
        dataset.rejected.extend(batch.rejected)
        yield from batch.records


#: With ``parse_aside``, a status file of at least this many bytes is parsed in two halves
#: at once, the second in another process: parsing is most of a direct report's time.
SPLIT_PARSE_BYTES = 16 << 20


def group_polls(batches: Iterable[Batch]) -> tuple[dict[str, list[int]], list[Rejected]]:
    """
    Gather parsed status lines into packed polls per store, in file order, and the
    rejected rows.
    """
    polls: dict[str, list[int]] = defaultdict(list)
    rejected: list[Rejected] = []
    for batch in batches:
        rejected.extend(batch.rejected)
        records = batch.records
        if isinstance(records, PollColumns):  # packed a column at a time, in C
            store_ids, instants, actives = records.columns()
            packed = map(operator.add, map(operator.add, instants, instants), actives)
            for store_id, value in zip(store_ids, packed, strict=True):
                polls[store_id].append(value)
            continue
        for store_id, at_us, active in records:
            polls[store_id].append(at_us * 2 + active)  # packed, see Dataset.polls
    return dict(polls), rejected


def _read_status_split(
    path: str,
    *,
    meanwhile: Callable[[], None],
    progress: SourceProgress | None = None,
    latest_at_us: int | None = None,
    max_line: int = MAX_LINE_BYTES,
) -> tuple[dict[str, list[int]], list[Rejected]]:
    """
    ``group_polls`` of a whole status file, its second half read in another process
    (``storemon.parallel.read_halves``) while ``meanwhile`` runs here.
    """
    # Imported here: subprocess and threading cost every ``import storemon`` time, and
    # most callers never split.
    from storemon.parallel import read_halves

    (polls, rejected), (later_polls, later_rejected) = read_halves(
        path,
        group_polls,
        meanwhile=meanwhile,
        progress=progress,
        latest_at_us=latest_at_us,
        max_line=max_line,
    )
    # The second half's stores come after the first's, in order: as one sequential read.
    for store_id, packed in later_polls.items():
        earlier = polls.get(store_id)
        if earlier is None:
            polls[store_id] = packed
        else:
            earlier.extend(packed)
    return polls, rejected + later_rejected


def load_csv(
    status: PathLike | IO[bytes],
    business_hours: PathLike | IO[bytes] | None = None,
    timezones: PathLike | IO[bytes] | None = None,
    *,
    special_hours: PathLike | IO[bytes] | None = None,
    parse_aside: bool = False,
    progress: SourceProgress | None = None,
    latest_at: dt.datetime | None = None,
    max_line: int = MAX_LINE_BYTES,
) -> Dataset:
    """
    Read the CSV inputs into a ``Dataset``; bad rows go to ``Dataset.rejected``.

    Args:
        status: The polls file (``store_id,status,timestamp_utc``), a path or binary stream.
        business_hours: The hours file; without it every store is open all the time.
        timezones: The zones file; without it every store is in America/Chicago.
        special_hours: The special-hours file (``store_id,date,start_time_local,
            end_time_local``; both times empty: closed that date); without it no store
            has special days.
        parse_aside: Parse a large status file (a path) half in a second process
            (``storemon.parallel``), with the same result.
        progress: Told how far the reading of each file given as a path is (a split
            status file: from the first half, scaled to the whole, as both halves are
            read at once).
        latest_at: Reject polls after this instant (the clock plus a tolerance), so that
            one absurd timestamp cannot become the report's "now".
        max_line: Reject lines longer than this many bytes, without holding them.

    Raises:
        SourceError: a file cannot be opened, or its header lacks a column.
    """
    with gc_paused():  # millions of rows made, none in a cycle (storemon.bulk)
        return _load_csv(
            status,
            business_hours,
            timezones,
            special_hours=special_hours,
            parse_aside=parse_aside,
            progress=progress,
            latest_at=latest_at,
            max_line=max_line,
        )


def _load_csv(
    status: PathLike | IO[bytes],
    business_hours: PathLike | IO[bytes] | None,
    timezones: PathLike | IO[bytes] | None,
    *,
    special_hours: PathLike | IO[bytes] | None,
    parse_aside: bool,
    progress: SourceProgress | None,
    latest_at: dt.datetime | None,
    max_line: int,
) -> Dataset:
    latest_at_us = None if latest_at is None else to_epoch_us(latest_at)
    dataset = Dataset()
    others = Dataset()  # hours, zones and their rejected rows, which come after the polls'

    def read_hours_and_zones() -> None:
        """
        Read the files besides the polls (hours, zones, special hours) into ``others``.
        """
        if business_hours is not None:
            hours: dict[str, list[HoursRow]] = defaultdict(list)
            hours_rows = _read(
                SourceKind.HOURS, business_hours, others, progress=progress, max_line=max_line
            )
            for store_id, row in hours_rows:
                hours[store_id].append(row)
            others.hours = dict(hours)
        if timezones is not None:
            zone_rows = _read(
                SourceKind.ZONES, timezones, others, progress=progress, max_line=max_line
            )
            for store_id, zone_key in zone_rows:
                others.zones[store_id] = zone_key
        if special_hours is not None:
            special: dict[str, list[SpecialHoursRow]] = defaultdict(list)
            special_rows = _read(
                SourceKind.SPECIAL, special_hours, others, progress=progress, max_line=max_line
            )
            for store_id, special_row in special_rows:
                special[store_id].append(special_row)
            others.special = dict(special)

    if (
        parse_aside
        and isinstance(status, str | os.PathLike)
        and os.path.isfile(status)
        and os.path.getsize(status) >= SPLIT_PARSE_BYTES
    ):
        dataset.polls, dataset.rejected = _read_status_split(
            os.fspath(status),
            meanwhile=read_hours_and_zones,
            progress=progress,
            latest_at_us=latest_at_us,
            max_line=max_line,
        )
    else:
        dataset.polls, dataset.rejected = group_polls(
            _batches(
                SourceKind.STATUS,
                status,
                progress=progress,
                latest_at_us=latest_at_us,
                max_line=max_line,
            )
        )
        read_hours_and_zones()
    dataset.hours, dataset.zones, dataset.special = others.hours, others.zones, others.special
    dataset.rejected += others.rejected
    return dataset
