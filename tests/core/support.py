"""
Small helpers for the core tests: CSV files from plain values, snapshots, report units.

These only translate test inputs into the shapes the public API takes; none of them
computes business time or uptime (``engine_ticks`` calls the engine's own functions in the
order the report builder does).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from fractions import Fraction

from storemon import DEFAULT_ZONE_KEY, HoursRow, ReportRow, StoreSnapshot
from storemon.localtime import Schedule, schedule_spans, special_rows_in_window, zone_for
from storemon.model import WEEK_US, SpecialHoursRow
from storemon.uptime import TICKS_PER_US, UptimeTicks, status_timeline, summarise_ticks
from tests.strategies import SpecialInput, StoreCase, timestamp_text

UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def csv_bytes(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    bom: bool = False,
    crlf: bool = False,
    final_newline: bool = True,
) -> bytes:
    """
    Write a CSV file's bytes from a header and rows, with the requested quirks.
    """
    end = "\r\n" if crlf else "\n"
    lines = [",".join(header)] + [",".join(str(value) for value in row) for row in rows]
    text = end.join(lines) + (end if final_newline else "")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def epoch_us(at: dt.datetime) -> int:
    """
    Microseconds since the Unix epoch of an aware datetime.
    """
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def hours_row(day: int, start: str, end: str) -> HoursRow:
    """
    Build an ``HoursRow`` from ``HH:MM:SS[.f]`` texts; an end of ``24:00:00`` is midnight.
    """

    if end.startswith("24:"):
        return HoursRow(day, _clock(start), dt.time(0), end_is_midnight=True)
    return HoursRow(day, _clock(start), _clock(end))


def _clock(text: str) -> dt.time:
    parts = text.split(":")
    seconds, _, fraction = (parts[2] if len(parts) > 2 else "0").partition(".")
    micros = int((fraction + "000000")[:6]) if fraction else 0
    return dt.time(int(parts[0]), int(parts[1]), int(seconds), micros)


def special_row(date: str, start: str = "", end: str = "") -> SpecialHoursRow:
    """
    Build a ``SpecialHoursRow`` from ``YYYY-MM-DD`` and time texts; no times: closed.
    """
    day = dt.date.fromisoformat(date)
    if not start and not end:
        return SpecialHoursRow(day)
    if end.startswith("24:"):
        return SpecialHoursRow(day, _clock(start), dt.time(0), end_is_midnight=True)
    return SpecialHoursRow(day, _clock(start), _clock(end))


def special_rows(rows: Sequence[SpecialInput]) -> tuple[SpecialHoursRow, ...]:
    """
    Build the ``SpecialHoursRow`` values of plain ``(date, start, end)`` rows.
    """
    return tuple(special_row(*row) for row in rows)


def week_business_us(
    zone_key: str | None,
    hours: Sequence[tuple[int, str, str]],
    special: Sequence[SpecialInput],
    as_of: dt.datetime,
) -> tuple[tuple[int, int], ...]:
    """
    The engine's business spans (microseconds) of the last week before ``as_of``.
    """
    now_us = epoch_us(as_of)
    lo_us = now_us - WEEK_US
    zone = zone_for(zone_key or DEFAULT_ZONE_KEY)
    relevant = special_rows_in_window(zone, special_rows(special), lo_us, now_us)
    schedule = Schedule.of((hours_row(*row) for row in hours), relevant)
    return schedule_spans(zone, schedule, lo_us, now_us)


def engine_ticks(case: StoreCase, max_gap_us: int | None = None) -> UptimeTicks | None:
    """
    One store's exact ticks per window (week, day, hour), special days and ``max_gap_us``
    applied, through the engine's public functions; ``None`` without a poll by ``as_of``.
    """
    snapshot = snapshot_of(case)
    now_us = epoch_us(case.as_of)
    timeline = status_timeline(snapshot.poll_at_us, snapshot.poll_active, now_us, max_gap_us)
    if timeline is None:
        return None
    business = tuple(
        (start * TICKS_PER_US, end * TICKS_PER_US)
        for start, end in week_business_us(case.zone_key, case.hours, case.special, case.as_of)
    )
    return summarise_ticks(business, timeline, now_us * TICKS_PER_US)


def ticks_seconds(ticks: int) -> Fraction:
    """
    Convert ticks (half microseconds) to seconds.
    """
    return Fraction(ticks, 2_000_000)


def snapshot_of(case: StoreCase) -> StoreSnapshot:
    """
    Build a snapshot of a case: polls one per instant (the later row wins), sorted.
    """
    by_instant: dict[int, bool] = {}
    for at, active in case.polls:
        by_instant[epoch_us(at)] = active
    times = sorted(by_instant)
    return StoreSnapshot(
        store_id=case.store_id,
        zone_key=case.zone_key,
        hours=tuple(hours_row(*row) for row in case.hours),
        poll_at_us=times,
        poll_active=[by_instant[t] for t in times],
    )


def case_files(
    cases: Sequence[StoreCase],
    *,
    styles: Sequence[str] = ("bigquery",),
    day_column: str = "day",
    poll_order: Sequence[int] | None = None,
    hours_order: Sequence[int] | None = None,
) -> tuple[io.BytesIO, io.BytesIO, io.BytesIO]:
    """
    Write the status, hours and zones files of some cases as binary streams.

    Timestamp spellings cycle through ``styles``; ``poll_order`` and ``hours_order``
    permute the rows of the status and hours files.
    """
    polls = [(case.store_id, at, active) for case in cases for at, active in case.polls]
    poll_rows = [
        (
            store_id,
            "active" if active else "inactive",
            timestamp_text(at, styles[index % len(styles)]),
        )
        for index, (store_id, at, active) in enumerate(polls)
    ]
    if poll_order is not None:
        poll_rows = [poll_rows[index] for index in poll_order]
    hour_rows = [(case.store_id, *row) for case in cases for row in case.hours]
    if hours_order is not None:
        hour_rows = [hour_rows[index] for index in hours_order]
    zone_rows = [(case.store_id, case.zone_key) for case in cases if case.zone_key is not None]
    return (
        io.BytesIO(csv_bytes(("store_id", "status", "timestamp_utc"), poll_rows)),
        io.BytesIO(
            csv_bytes(("store_id", day_column, "start_time_local", "end_time_local"), hour_rows)
        ),
        io.BytesIO(csv_bytes(("store_id", "timezone_str"), zone_rows)),
    )


def row_seconds(row: ReportRow) -> dict[str, tuple[Fraction, Fraction]]:
    """
    Convert a report row to seconds per window: ``{window: (uptime, downtime)}``.
    """
    return {
        "hour": (row.uptime_last_hour * 60, row.downtime_last_hour * 60),
        "day": (row.uptime_last_day * 3600, row.downtime_last_day * 3600),
        "week": (row.uptime_last_week * 3600, row.downtime_last_week * 3600),
    }
