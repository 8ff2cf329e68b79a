"""
Report jobs, store timelines and errors as HTTP responses: CSV, JSON, the JSON error body.

JSON reports keep the CSV's values exactly: ``store_id`` is a string (real ids exceed
2**53, which a JSON number would corrupt) and every measure is the CSV's two-decimal
string (``"12.50"``), so the JSON and CSV forms of a report never disagree by a rounding.
A report computed with a maximum gap has the three ``unknown_*`` columns in both forms,
and says its gap (``max_gap``, ISO 8601: ``"PT2H"``); one without has neither.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from typing import Any

from aiohttp import web

from storemon.csvformat import format_value, report_header
from storemon.explain import StatusSpan, StoreTimeline
from storemon.localtime import zone_for
from storemon.model import (
    DAY_US,
    HOUR_US,
    ReportJob,
    ReportRow,
    ReportStatus,
    SpecialHoursRow,
    to_epoch_us,
)

#: The statuses of the assignment's API: a job waiting for a worker is reported Running.
PUBLIC_STATUS = {
    ReportStatus.PENDING: "Running",
    ReportStatus.RUNNING: "Running",
    ReportStatus.COMPLETE: "Complete",
    ReportStatus.FAILED: "Failed",
}


def error_response(
    status: int, message: str, *, headers: dict[str, str] | None = None
) -> web.Response:
    """
    Return ``{"error": message}`` with ``status``.
    """
    return web.json_response({"error": message}, status=status, headers=headers)


def iso_duration(duration: dt.timedelta | None) -> str | None:
    """
    Return a duration as ISO 8601 in whole hours, minutes and seconds (``PT1H30M``), or
    ``None``; a fraction of a second is written as one (``PT0.5S``).
    """
    if duration is None:
        return None
    total_us = duration // dt.timedelta(microseconds=1)
    seconds, micro = divmod(total_us, 1_000_000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if micro:
        text += f"{seconds}.{micro:06d}".rstrip("0") + "S"
    elif seconds or text == "PT":
        text += f"{seconds}S"
    return text


def triggered_response(job: ReportJob) -> web.Response:
    """
    Answer a trigger: the new job's id, ``Running`` and ``Success``.
    """
    return web.json_response(
        {"report_id": job.report_id, "status": "Running", "message": "Success"}
    )


def csv_rows(text: str) -> list[dict[str, str]]:
    """
    Parse a report CSV into one dict per row, values as written (strings).
    """
    return list(csv.DictReader(io.StringIO(text)))


def report_response(job: ReportJob, *, as_json: bool = False) -> web.Response:
    """
    Answer ``get_report`` for a job in any state.
    """
    status = PUBLIC_STATUS[job.status]
    if status == "Running":
        return web.json_response(
            {"report_id": job.report_id, "status": "Running", "state": job.status},
            headers={"X-Report-Status": "Running"},
        )
    if status == "Failed":
        return web.json_response(
            {"report_id": job.report_id, "status": "Failed", "error": job.error or "unknown"},
            status=500,
            headers={"X-Report-Status": "Failed"},
        )
    text = job.csv or ""
    if as_json:
        body: dict[str, Any] = {
            "report_id": job.report_id,
            "status": "Complete",
            "as_of": None if job.as_of is None else job.as_of.isoformat(),
            "max_gap": iso_duration(job.max_gap),
            "rows": csv_rows(text),
        }
        return web.json_response(body, headers={"X-Report-Status": "Complete"})
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={
            "X-Report-Status": "Complete",
            "Content-Disposition": f'attachment; filename="report-{job.report_id}.csv"',
        },
    )


def row_fields(row: ReportRow, *, unknown: bool = False) -> dict[str, str]:
    """
    Return a report row as the CSV writes it: the store id and two-decimal strings, with
    the three unknown columns when ``unknown`` (a report with a maximum gap).
    """
    return {
        "store_id": row.store_id,
        **{name: format_value(getattr(row, name)) for name in report_header(unknown=unknown)[1:]},
    }


def report_row(job: ReportJob, store_id: str) -> dict[str, str] | None:
    """
    Return the store's row as the job's CSV holds it (its six or nine columns), or
    ``None`` (not complete, no row).
    """
    if job.status != ReportStatus.COMPLETE or not job.csv:
        return None
    header_line, _, body = job.csv.partition("\n")
    header = next(csv.reader([header_line]))
    # Only the lines mentioning the id are parsed: a full report has 14,092 lines.
    lines = [line for line in body.splitlines() if store_id in line]
    for values in csv.reader(lines):
        if values and values[0] == store_id and len(values) == len(header):
            return dict(zip(header, values, strict=True))
    return None


def _offset(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _instant(at: dt.datetime, zone: zoneinfo.ZoneInfo) -> dict[str, Any]:
    # The browser needs no time-zone database: every instant comes with its local wall
    # clock, offset included, computed here. ``us`` (microseconds since the epoch, exact in
    # a JavaScript number) lets the page add durations up exactly.
    return {
        "us": to_epoch_us(at),
        "utc": at.isoformat(),
        "local": at.astimezone(zone).isoformat(timespec="seconds"),
    }


def _local_midnights(
    start: dt.datetime, end: dt.datetime, zone: zoneinfo.ZoneInfo
) -> list[dict[str, Any]]:
    days: list[dict[str, Any]] = []
    day = start.astimezone(zone).date()
    while True:
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        if midnight > end:
            return days
        if midnight >= start:
            days.append({**_instant(midnight, zone), "label": f"{day:%a %d %b}"})
        day += dt.timedelta(days=1)


def known_status(
    status: tuple[StatusSpan, ...], unknown: tuple[tuple[dt.datetime, dt.datetime], ...]
) -> list[StatusSpan]:
    """
    Return the status spans without the unknown stretches (both sorted, half-open), so
    that up, down and unknown never overlap and each adds up on its own.
    """
    known: list[StatusSpan] = []
    for span in status:
        start = span.start
        for lo, hi in unknown:
            if hi <= start or lo >= span.end:
                continue
            if lo > start:
                known.append(StatusSpan(start, lo, span.active))
            start = max(start, hi)
        if start < span.end:
            known.append(StatusSpan(start, span.end, span.active))
    return known


def _wall_time(at: dt.time | None, *, midnight: bool = False) -> str | None:
    if midnight:
        return "24:00:00"
    return None if at is None else at.isoformat()


def special_days(
    rows: tuple[SpecialHoursRow, ...],
    zone: zoneinfo.ZoneInfo,
    start: dt.datetime,
    end: dt.datetime,
) -> list[dict[str, Any]]:
    """
    Return the special dates whose local day reaches into ``[start, end]``, one per date:
    closed, or its special hours as written; with the date's local midnights as instants.
    """
    by_date: dict[dt.date, list[SpecialHoursRow]] = {}
    for row in rows:
        by_date.setdefault(row.date, []).append(row)
    days: list[dict[str, Any]] = []
    for date, of_date in sorted(by_date.items()):
        midnight = dt.datetime.combine(date, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        next_day = date + dt.timedelta(days=1)
        next_midnight = dt.datetime.combine(next_day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        if next_midnight <= start or midnight > end:
            continue
        hours = [
            {
                "start": _wall_time(row.start_local),
                "end": _wall_time(row.end_local, midnight=row.end_is_midnight),
            }
            for row in of_date
            if not row.is_closed
        ]
        days.append(
            {
                "date": date.isoformat(),
                # Several rows of a date combine: a closed row beside hours adds nothing.
                "closed": not hours,
                "hours": hours,
                "start": _instant(midnight, zone),
                "end": _instant(next_midnight, zone),
            }
        )
    return days


def timeline_body(
    timeline: StoreTimeline, *, report_id: str, stored_row: dict[str, str] | None
) -> dict[str, Any]:
    """
    Return a store's last week as JSON: every instant in UTC and in the store's wall clock;
    the status where it is known, the unknown stretches apart, and the week's special dates.

    ``row`` is computed from the data now, by the report's code path; ``report_row`` is the
    row the stored report holds. They differ only if polls up to the report's "now" arrived
    after it was computed (``matches_report`` says which).
    """
    zone = zone_for(timeline.zone_key)
    as_of = timeline.as_of
    row = row_fields(timeline.row, unknown=timeline.max_gap is not None)
    windows = {
        "last_hour": as_of - dt.timedelta(microseconds=HOUR_US),
        "last_day": as_of - dt.timedelta(microseconds=DAY_US),
        "last_week": timeline.window_start,
    }
    return {
        "report_id": report_id,
        "store_id": timeline.store_id,
        "zone_key": timeline.zone_key,
        "as_of": _instant(as_of, zone),
        "windows": {name: _instant(start, zone) for name, start in windows.items()},
        "days": _local_midnights(timeline.window_start, as_of, zone),
        "business": [
            {"start": _instant(start, zone), "end": _instant(end, zone)}
            for start, end in timeline.business
        ],
        "status": [
            {
                "start": _instant(span.start, zone),
                "end": _instant(span.end, zone),
                "active": span.active,
            }
            for span in known_status(timeline.status, timeline.unknown)
        ],
        "max_gap": iso_duration(timeline.max_gap),
        "unknown": [
            {"start": _instant(start, zone), "end": _instant(end, zone)}
            for start, end in timeline.unknown
        ],
        "special_days": special_days(timeline.special, zone, timeline.window_start, as_of),
        "polls": [
            {"at": _instant(at, zone), "active": active}
            for at, active in timeline.polls
            if at >= timeline.window_start
        ],
        "offset_changes": [
            {
                "at": _instant(change.at, zone),
                "offset_before": _offset(change.offset_before),
                "offset_after": _offset(change.offset_after),
            }
            for change in timeline.offset_changes
        ],
        "row": row,
        "report_row": stored_row,
        "matches_report": None if stored_row is None else stored_row == row,
    }
