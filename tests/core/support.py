"""
Small helpers for the core tests: CSV files from plain values, snapshots, report units.

These only translate test inputs into the shapes the public API takes; none of them
computes business time or uptime.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from fractions import Fraction

from storemon import HoursRow, ReportRow, StoreSnapshot
from tests.strategies import StoreCase, timestamp_text

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

    def clock(text: str) -> dt.time:
        parts = text.split(":")
        seconds, _, fraction = (parts[2] if len(parts) > 2 else "0").partition(".")
        micros = int((fraction + "000000")[:6]) if fraction else 0
        return dt.time(int(parts[0]), int(parts[1]), int(seconds), micros)

    if end.startswith("24:"):
        return HoursRow(day, clock(start), dt.time(0), end_is_midnight=True)
    return HoursRow(day, clock(start), clock(end))


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
