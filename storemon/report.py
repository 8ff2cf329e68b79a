"""
From store snapshots to the report: windows, units, sorting and the CSV format.

``ReportBuilder`` is the pure core's entry point for a whole report. It computes business
spans once per distinct (zone, hours) pair, because most stores share both, then runs the
per-store hot path of ``storemon.uptime``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from storemon.interval import Span
from storemon.localtime import Schedule, schedule_spans, zone_for
from storemon.model import (
    DEFAULT_ZONE_KEY,
    HOUR_US,
    MINUTE_US,
    WEEK_US,
    HoursRow,
    Report,
    ReportRow,
    StoreSnapshot,
    from_epoch_us,
    to_epoch_us,
)
from storemon.uptime import (
    TICKS_PER_US,
    UptimeTicks,
    status_changes,
    summarise_ticks,
    window_business_ticks,
)

#: The report's header, exactly (SEMANTICS.md, "The numbers").
REPORT_HEADER = (
    "store_id",
    "uptime_last_hour",
    "uptime_last_day",
    "uptime_last_week",
    "downtime_last_hour",
    "downtime_last_day",
    "downtime_last_week",
)

_TICKS_PER_MINUTE = MINUTE_US * TICKS_PER_US
_TICKS_PER_HOUR = HOUR_US * TICKS_PER_US


class ReportBuilder:
    """
    Accumulate report rows for one ``as_of``, one store snapshot at a time.
    """

    def __init__(self, as_of: dt.datetime, *, default_zone_key: str = DEFAULT_ZONE_KEY) -> None:
        self.as_of_us = to_epoch_us(as_of)
        self.default_zone_key = default_zone_key
        zone_for(default_zone_key)  # fail early on a bad default
        self._week_lo_us = self.as_of_us - WEEK_US
        self._business: dict[tuple[str, tuple[HoursRow, ...]], tuple[Span, ...]] = {}
        self._rows: list[ReportRow] = []

    def business_week_ticks(
        self, zone_key: str | None, hours: tuple[HoursRow, ...]
    ) -> tuple[Span, ...]:
        """
        Return the store's business spans in the last-week window, in ticks; cached.
        """
        key = (zone_key or self.default_zone_key, hours)
        spans = self._business.get(key)
        if spans is None:
            spans_us = schedule_spans(
                zone_for(key[0]), Schedule.of(hours), self._week_lo_us, self.as_of_us
            )
            spans = tuple((start * TICKS_PER_US, end * TICKS_PER_US) for start, end in spans_us)
            self._business[key] = spans
        return spans

    def summarise(self, snapshot: StoreSnapshot) -> ReportRow | None:
        """
        Return the store's report row, or ``None`` when it has no poll at or before as_of.
        """
        timeline = status_changes(snapshot.poll_at_us, snapshot.poll_active, self.as_of_us)
        if timeline is None:
            return None
        business = self.business_week_ticks(snapshot.zone_key, snapshot.hours)
        return report_row(
            snapshot.store_id, summarise_ticks(business, timeline, self.as_of_us * TICKS_PER_US)
        )

    def add(self, snapshot: StoreSnapshot) -> None:
        """
        Add one store to the report.
        """
        row = self.summarise(snapshot)
        if row is not None:
            self._rows.append(row)

    def report(self) -> Report:
        """
        Return the report of the stores added so far, sorted by store id.
        """
        rows = sorted(self._rows, key=lambda row: row.store_id)
        return Report(as_of=from_epoch_us(self.as_of_us), rows=tuple(rows))


class CsvReportBuilder(ReportBuilder):
    """
    A ``ReportBuilder`` that keeps each store's CSV line instead of its ``ReportRow``:
    a few dozen bytes per store, and no ``Fraction`` arithmetic.
    """

    def __init__(self, as_of: dt.datetime, *, default_zone_key: str = DEFAULT_ZONE_KEY) -> None:
        super().__init__(as_of, default_zone_key=default_zone_key)
        self._lines: list[tuple[str, str]] = []
        self._week: dict[tuple[str | None, tuple[HoursRow, ...]], tuple[Any, Any]] = {}

    def add(self, snapshot: StoreSnapshot) -> None:
        """
        Add one store to the report.
        """
        timeline = status_changes(snapshot.poll_at_us, snapshot.poll_active, self.as_of_us)
        if timeline is None:
            return
        now_tick = self.as_of_us * TICKS_PER_US
        # The business spans and their totals per window, once per (zone, hours).
        key = (snapshot.zone_key, snapshot.hours)
        week = self._week.get(key)
        if week is None:
            business = self.business_week_ticks(snapshot.zone_key, snapshot.hours)
            week = self._week[key] = (business, window_business_ticks(business, now_tick))
        ticks = summarise_ticks(week[0], timeline, now_tick, week[1])
        self._lines.append((snapshot.store_id, report_line(snapshot.store_id, ticks)))

    def csv(self) -> str:
        """
        Return the report's CSV text (header, then rows sorted by store id, ``\\n`` ends).
        """
        self._lines.sort()
        head = ",".join(REPORT_HEADER) + "\n"
        return head + "".join(line + "\n" for _, line in self._lines)


def format_ticks(ticks: int, per_unit: int) -> str:
    """
    Write ``ticks / per_unit`` with two decimals, rounding half up once. The text depends
    only on the ratio (the formula does not change when both are multiplied by the same
    number), so ticks give the same text as their reduced ``Fraction``.
    """
    # floor(ticks / per_unit * 100 + 1/2) in integers: cheaper than Fraction arithmetic.
    hundredths = (200 * ticks + per_unit) // (2 * per_unit)
    if hundredths < 0:
        raise ValueError(f"report values are never negative, got {ticks}/{per_unit}")
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def report_line(store_id: str, ticks: UptimeTicks) -> str:
    """
    Return a store's CSV line (no line end) straight from its exact ticks.
    """
    up_week, up_day, up_hour = ticks.uptime
    down_week, down_day, down_hour = ticks.downtime
    return ",".join(
        (
            _csv_field(store_id),
            format_ticks(up_hour, _TICKS_PER_MINUTE),
            format_ticks(up_day, _TICKS_PER_HOUR),
            format_ticks(up_week, _TICKS_PER_HOUR),
            format_ticks(down_hour, _TICKS_PER_MINUTE),
            format_ticks(down_day, _TICKS_PER_HOUR),
            format_ticks(down_week, _TICKS_PER_HOUR),
        )
    )


def report_row(store_id: str, ticks: UptimeTicks) -> ReportRow:
    """
    Convert exact ticks to a row: the last hour in minutes, the day and week in hours.
    """
    up_week, up_day, up_hour = ticks.uptime
    down_week, down_day, down_hour = ticks.downtime
    return ReportRow(
        store_id=store_id,
        uptime_last_hour=Fraction(up_hour, _TICKS_PER_MINUTE),
        uptime_last_day=Fraction(up_day, _TICKS_PER_HOUR),
        uptime_last_week=Fraction(up_week, _TICKS_PER_HOUR),
        downtime_last_hour=Fraction(down_hour, _TICKS_PER_MINUTE),
        downtime_last_day=Fraction(down_day, _TICKS_PER_HOUR),
        downtime_last_week=Fraction(down_week, _TICKS_PER_HOUR),
    )


def compute_report(
    snapshots: Iterable[StoreSnapshot],
    *,
    as_of: dt.datetime,
    default_zone_key: str = DEFAULT_ZONE_KEY,
) -> Report:
    """
    Compute the report of ``snapshots`` at ``as_of``: pure, exact and synchronous.

    Args:
        snapshots: One per store, in any order (see ``StoreSnapshot``).
        as_of: The report's "now"; polls after it are ignored.
        default_zone_key: The zone of stores without a time-zone row.

    Returns:
        The report, one row per store with a poll at or before ``as_of``.
    """
    builder = ReportBuilder(as_of, default_zone_key=default_zone_key)
    for snapshot in snapshots:
        builder.add(snapshot)
    return builder.report()


def format_value(value: Fraction) -> str:
    """
    Write an exact non-negative value with two decimals, rounding half up once.
    """
    return format_ticks(value.numerator, value.denominator)


def report_lines(rows: Iterable[ReportRow]) -> Iterable[str]:
    """
    Yield the CSV lines of a report, header first, without line ends.
    """
    yield ",".join(REPORT_HEADER)
    for row in rows:
        yield ",".join(
            (
                _csv_field(row.store_id),
                format_value(row.uptime_last_hour),
                format_value(row.uptime_last_day),
                format_value(row.uptime_last_week),
                format_value(row.downtime_last_hour),
                format_value(row.downtime_last_day),
                format_value(row.downtime_last_week),
            )
        )


def _csv_field(text: str) -> str:
    """
    Quote a field only when CSV needs it; real ids (digits, UUIDs) never do.
    """
    if any(char in text for char in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def report_csv(rows: Iterable[ReportRow]) -> str:
    """
    Return the report as CSV text with ``\\n`` line ends.
    """
    return "".join(line + "\n" for line in report_lines(rows))
