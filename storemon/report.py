"""
From store snapshots to the report: its window, units and sorting.

``ReportBuilder`` is the pure core's one way to build a whole report. It computes business
spans once per distinct (zone, hours, special days in the window), because most stores
share all three, then runs the per-store hot path of ``storemon.uptime``; what it keeps of
each store is pluggable: the exact row (``report_row``) or the CSV line (``report_line``).

With a maximum gap every store has unknown stretches before its first and after its last
poll, but most of them lie outside the week or outside business time: the builder clips
the stretches to the week's business time and measures a store whose stretches touch none
of it on the path without unknown time (same numbers, unknown 0).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from typing import Any, Generic, TypeVar, overload

import attrs

from storemon.csvformat import csv_line, csv_text, format_ratio, report_header
from storemon.errors import DataError
from storemon.interval import Span
from storemon.localtime import Schedule, schedule_spans, special_rows_in_window, zone_for
from storemon.model import (
    DEFAULT_ZONE_KEY,
    HOUR_US,
    MINUTE_US,
    WEEK_US,
    HoursRow,
    Report,
    ReportRow,
    SkippedStore,
    SpecialHoursRecord,
    SpecialHoursRow,
    StoreId,
    StoreSnapshot,
    from_epoch_us,
    to_epoch_us,
)
from storemon.parsing import store_id_problem
from storemon.uptime import (
    TICKS_PER_US,
    BusinessMeasure,
    StatusTimeline,
    UptimeTicks,
    measure_polls,
    status_timeline,
    window_business_ticks,
)

_TICKS_PER_MINUTE = MINUTE_US * TICKS_PER_US
_TICKS_PER_HOUR = HOUR_US * TICKS_PER_US

#: What a ``ReportBuilder`` keeps of each store.
Kept = TypeVar("Kept")


def window_start(as_of: dt.datetime) -> dt.datetime:
    """
    Return the start of the report's longest window, the week before ``as_of``: a report
    reads the polls from there to ``as_of``, and the latest poll before it.
    """
    return from_epoch_us(to_epoch_us(as_of) - WEEK_US)


def report_row(store_id: StoreId, ticks: UptimeTicks) -> ReportRow:
    """
    Convert exact ticks to a row: the last hour in minutes, the day and week in hours.
    """
    up_week, up_day, up_hour = ticks.uptime
    down_week, down_day, down_hour = ticks.downtime
    unknown_week, unknown_day, unknown_hour = ticks.unknown
    return ReportRow(
        store_id=store_id,
        uptime_last_hour=Fraction(up_hour, _TICKS_PER_MINUTE),
        uptime_last_day=Fraction(up_day, _TICKS_PER_HOUR),
        uptime_last_week=Fraction(up_week, _TICKS_PER_HOUR),
        downtime_last_hour=Fraction(down_hour, _TICKS_PER_MINUTE),
        downtime_last_day=Fraction(down_day, _TICKS_PER_HOUR),
        downtime_last_week=Fraction(down_week, _TICKS_PER_HOUR),
        unknown_last_hour=Fraction(unknown_hour, _TICKS_PER_MINUTE),
        unknown_last_day=Fraction(unknown_day, _TICKS_PER_HOUR),
        unknown_last_week=Fraction(unknown_week, _TICKS_PER_HOUR),
    )


def report_line(store_id: StoreId, ticks: UptimeTicks) -> str:
    """
    Return a store's CSV line (no line end) straight from its exact ticks: the same text
    as its ``report_row`` written out, without the ``Fraction`` arithmetic.
    """
    up_week, up_day, up_hour = ticks.uptime
    down_week, down_day, down_hour = ticks.downtime
    return csv_line(
        store_id,
        (
            format_ratio(up_hour, _TICKS_PER_MINUTE),
            format_ratio(up_day, _TICKS_PER_HOUR),
            format_ratio(up_week, _TICKS_PER_HOUR),
            format_ratio(down_hour, _TICKS_PER_MINUTE),
            format_ratio(down_day, _TICKS_PER_HOUR),
            format_ratio(down_week, _TICKS_PER_HOUR),
        ),
    )


def report_line_with_unknown(store_id: StoreId, ticks: UptimeTicks) -> str:
    """
    ``report_line`` with the three unknown columns after the six: the line of a report
    with a maximum gap. A ``ReportBuilder`` with ``max_gap`` writes these when asked to
    keep ``report_line``.
    """
    unknown_week, unknown_day, unknown_hour = ticks.unknown
    if not unknown_week:  # nothing unknown in the week: nor in the day or the hour
        return report_line(store_id, ticks) + ",0.00,0.00,0.00"
    return ",".join(
        (
            report_line(store_id, ticks),
            format_ratio(unknown_hour, _TICKS_PER_MINUTE),
            format_ratio(unknown_day, _TICKS_PER_HOUR),
            format_ratio(unknown_week, _TICKS_PER_HOUR),
        )
    )


def max_gap_us(max_gap: dt.timedelta | None) -> int | None:
    """
    Return a maximum gap in whole microseconds (``None`` stays ``None``).

    Raises:
        DataError: the gap is not positive.
    """
    if max_gap is None:
        return None
    if not isinstance(max_gap, dt.timedelta):
        raise DataError(f"the maximum gap must be a timedelta, got {type(max_gap).__name__}")
    value = (max_gap.days * 86_400 + max_gap.seconds) * 1_000_000 + max_gap.microseconds
    if value <= 0:
        raise DataError(f"the maximum gap must be positive, got {max_gap}")
    return value


def snapshot_problem(snapshot: StoreSnapshot) -> str | None:
    """
    Return why a store's snapshot cannot be used, or ``None``: its backend could not read
    one of its rows (``StoreSnapshot.problem``), or its id is not a valid store id.
    """
    return snapshot.problem or store_id_problem(snapshot.store_id)


class ReportBuilder(Generic[Kept]):
    """
    Build the report at one ``as_of``, one store snapshot at a time.

    ``keep`` turns each store's exact ticks into what is kept until the end: its
    ``ReportRow`` (the default; finish with ``report()``) or its CSV line (``report_line``,
    a few dozen bytes per store; finish with ``csv()``).

    ``max_gap`` (SEMANTICS.md, "Unknown time"): time further than half of it from every
    poll is unknown; the report then has the three unknown columns (``report_line`` keeps
    the nine-column line). Without it nothing is unknown and the report is the six columns.
    """

    @overload
    def __init__(
        self: ReportBuilder[ReportRow],
        as_of: dt.datetime,
        *,
        default_zone_key: str = DEFAULT_ZONE_KEY,
        max_gap: dt.timedelta | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self,
        as_of: dt.datetime,
        *,
        default_zone_key: str = DEFAULT_ZONE_KEY,
        max_gap: dt.timedelta | None = None,
        keep: Callable[[StoreId, UptimeTicks], Kept],
    ) -> None: ...

    def __init__(
        self,
        as_of: dt.datetime,
        *,
        default_zone_key: str = DEFAULT_ZONE_KEY,
        max_gap: dt.timedelta | None = None,
        keep: Callable[[StoreId, UptimeTicks], Any] = report_row,
    ) -> None:
        #: The report's "now", UTC.
        self.as_of = from_epoch_us(to_epoch_us(as_of))
        self.as_of_us = to_epoch_us(as_of)
        self.window_start_us = to_epoch_us(window_start(as_of))
        self.default_zone_key = default_zone_key
        zone_for(default_zone_key)  # fail early on a bad default
        #: The maximum gap in microseconds, or ``None``.
        self.max_gap_us = max_gap_us(max_gap)
        self.max_gap = (
            None if self.max_gap_us is None else dt.timedelta(microseconds=self.max_gap_us)
        )
        if keep is report_line and self.max_gap_us is not None:
            keep = report_line_with_unknown
        self._keep: Callable[[StoreId, UptimeTicks], Kept] = keep
        #: Per (zone, hours, special rows in the window): the business spans of the week
        #: in ticks, and their total in each window.
        self._business: dict[
            tuple[str, tuple[HoursRow, ...], tuple[SpecialHoursRow, ...]],
            tuple[BusinessMeasure, tuple[int, ...]],
        ] = {}
        self._kept: list[tuple[StoreId, Kept]] = []
        #: Stores left out because their stored rows cannot be read, in the order met.
        self.skipped: list[SkippedStore] = []

    def _business_week(
        self,
        zone_key: str | None,
        hours: tuple[HoursRow, ...],
        special: tuple[SpecialHoursRow, ...] = (),
    ) -> tuple[BusinessMeasure, tuple[int, ...]]:
        zone_key = zone_key or self.default_zone_key
        if special:
            # Only the dates that can touch the window matter: stores whose other special
            # days differ still share the spans.
            special = special_rows_in_window(
                zone_for(zone_key), special, self.window_start_us, self.as_of_us
            )
        key = (zone_key, hours, special)
        cached = self._business.get(key)
        if cached is None:
            spans_us = schedule_spans(
                zone_for(zone_key),
                Schedule.of(hours, special),
                self.window_start_us,
                self.as_of_us,
            )
            spans = tuple((start * TICKS_PER_US, end * TICKS_PER_US) for start, end in spans_us)
            totals = window_business_ticks(spans, self.as_of_us * TICKS_PER_US)
            cached = self._business[key] = (BusinessMeasure.of(spans), totals)
        return cached

    def business_week_ticks(
        self,
        zone_key: str | None,
        hours: tuple[HoursRow, ...],
        special: tuple[SpecialHoursRow, ...] = (),
    ) -> tuple[Span, ...]:
        """
        Return the store's business spans in the last-week window, in ticks; cached.
        """
        return self._business_week(zone_key, hours, special)[0].spans

    def timeline(self, snapshot: StoreSnapshot) -> StatusTimeline | None:
        """
        Return the store's status timeline at ``as_of`` (with its unknown stretches when
        the report has a maximum gap), or ``None`` when it has no poll by then.
        """
        return status_timeline(
            snapshot.poll_at_us,
            snapshot.poll_active,
            self.as_of_us,
            self.max_gap_us,
            gap_after=snapshot.gap_after,
        )

    def measure(self, snapshot: StoreSnapshot) -> UptimeTicks | None:
        """
        Return the store's exact ticks, or ``None`` when it has no poll at or before as_of.
        """
        business, totals = self._business_week(snapshot.zone_key, snapshot.hours, snapshot.special)
        return measure_polls(
            business,
            totals,
            snapshot.poll_at_us,
            snapshot.poll_active,
            self.as_of_us,
            self.max_gap_us,
            snapshot.gap_after,
        )

    def add(self, snapshot: StoreSnapshot) -> None:
        """
        Add one store to the report; a store whose stored rows cannot be read (an invalid
        id, an unknown zone, rows its backend could not read) is left out and noted in
        ``skipped``.
        """
        problem = snapshot_problem(snapshot)
        ticks = None
        if problem is None:
            try:
                ticks = self.measure(snapshot)
            except DataError as error:
                problem = str(error)
        if problem is not None:
            self.skipped.append(SkippedStore(snapshot.store_id, problem))
        elif ticks is not None:
            self._kept.append((snapshot.store_id, self._keep(snapshot.store_id, ticks)))

    def extend(self, snapshots: Iterable[StoreSnapshot]) -> ReportBuilder[Kept]:
        """
        Add every store of ``snapshots``; return the builder.
        """
        for snapshot in snapshots:
            self.add(snapshot)
        return self

    def kept(self) -> list[Kept]:
        """
        Return what was kept of the stores added so far, sorted by store id.
        """
        self._kept.sort(key=_store_id)
        return [item for _, item in self._kept]

    def report(self: ReportBuilder[ReportRow]) -> Report:
        """
        Return the report of the stores added so far, sorted by store id.
        """
        return Report(
            as_of=self.as_of, rows=self.kept(), skipped=self.skipped, max_gap=self.max_gap
        )

    def csv(self: ReportBuilder[str]) -> str:
        """
        Return the report's CSV text (header, then rows sorted by store id, ``\\n`` ends):
        nine columns with a maximum gap, else six.
        """
        return csv_text(self.kept(), header=report_header(unknown=self.max_gap_us is not None))


def _store_id(item: tuple[StoreId, object]) -> StoreId:
    return item[0]


def with_special_hours(
    snapshots: Iterable[StoreSnapshot], special_hours: Iterable[SpecialHoursRecord]
) -> Iterator[StoreSnapshot]:
    """
    Yield ``snapshots`` with each store's special-hours records added to its ``special``.
    """
    by_store: dict[StoreId, list[SpecialHoursRow]] = {}
    for store_id, row in special_hours:
        by_store.setdefault(store_id, []).append(row)
    for snapshot in snapshots:
        rows = by_store.get(snapshot.store_id)
        if rows:
            snapshot = attrs.evolve(snapshot, special=(*snapshot.special, *rows))
        yield snapshot


def compute_report(
    snapshots: Iterable[StoreSnapshot],
    *,
    as_of: dt.datetime,
    default_zone_key: str = DEFAULT_ZONE_KEY,
    special_hours: Iterable[SpecialHoursRecord] = (),
    max_gap: dt.timedelta | None = None,
) -> Report:
    """
    Compute the report of ``snapshots`` at ``as_of``: pure, exact and synchronous.

    Args:
        snapshots: One per store, in any order (see ``StoreSnapshot``).
        as_of: The report's "now"; polls after it are ignored.
        default_zone_key: The zone of stores without a time-zone row.
        special_hours: ``(store id, SpecialHoursRow)`` records, added to the special days
            the snapshots carry (SEMANTICS.md, "Special days").
        max_gap: Time further than half of it from every poll is unknown (SEMANTICS.md,
            "Unknown time"); the report then has the three unknown columns.

    Returns:
        The report, one row per store with a poll at or before ``as_of``.
    """
    builder = ReportBuilder(as_of, default_zone_key=default_zone_key, max_gap=max_gap)
    return builder.extend(with_special_hours(snapshots, special_hours)).report()
