"""
The naive reference: the simplest correct implementation of SEMANTICS.md, for comparison.

What it does not do, and storemon does: it reads with the ``csv`` module and makes a
timezone-aware ``datetime`` per poll; it stores rows one ``INSERT OR REPLACE`` at a time
(in one transaction) and never skips an unchanged file; it computes every store's business
time on its own (no sharing per (zone, hours)) by probing the zone's offset every 30
minutes; it walks every poll of every store for each window; it holds everything in memory.
It is exact (integer half-microseconds), so its report must equal storemon's byte for byte.

    python benchmarks/naive.py ingest DB --status F --business-hours F --timezones F
    python benchmarks/naive.py report-db DB --output OUT
    python benchmarks/naive.py report --status F --business-hours F --timezones F --output OUT
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sqlite3
import sys
from collections import defaultdict
from fractions import Fraction
from zoneinfo import ZoneInfo

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
US = dt.timedelta(microseconds=1)
DAY = dt.timedelta(days=1)
HEADER = (
    "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,"
    "downtime_last_hour,downtime_last_day,downtime_last_week"
)


def parse_instant(text: str) -> dt.datetime:
    text = text.strip()
    if text.endswith(" UTC"):
        text = text[:-4] + "+00:00"
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_clock(text: str) -> dt.timedelta:
    clock, _, fraction = text.strip().partition(".")
    parts = [int(part) for part in clock.split(":")] + [0, 0]
    micros = int((fraction + "000000")[:6]) if fraction else 0
    return dt.timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2], microseconds=micros)


def rows_of(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        names = [name.strip().lower() for name in next(reader)]
        names = [{"dayofweek": "day"}.get(name, name) for name in names]
        return [dict(zip(names, row, strict=True)) for row in reader if row]


def load_csv(args: argparse.Namespace) -> tuple[list, list, list]:
    polls = [
        (row["store_id"].strip(), parse_instant(row["timestamp_utc"]), row["status"])
        for row in rows_of(args.status)
    ]
    hours = [
        (row["store_id"].strip(), int(row["day"]), row["start_time_local"], row["end_time_local"])
        for row in rows_of(args.business_hours)
    ]
    zones = [
        (row["store_id"].strip(), row["timezone_str"].strip()) for row in rows_of(args.timezones)
    ]
    return polls, hours, zones


def weekly(rows: list[tuple[int, str, str]]) -> dict[int, list[tuple[dt.timedelta, dt.timedelta]]]:
    """
    Per weekday, wall-clock [start, end) intervals as offsets from local midnight.
    """
    if not rows:
        return {day: [(dt.timedelta(0), DAY)] for day in range(7)}
    by_day: dict[int, list[tuple[dt.timedelta, dt.timedelta]]] = defaultdict(list)
    for day, start_text, end_text in rows:
        start, end = parse_clock(start_text), parse_clock(end_text)
        if end > start:
            if end >= dt.timedelta(hours=23, minutes=59):
                end = DAY
            by_day[day].append((start, end))
        else:
            by_day[day].append((start, DAY))
            by_day[(day + 1) % 7].append((dt.timedelta(0), end))
    return by_day


def offset_pieces(zone: ZoneInfo, lo: dt.datetime, hi: dt.datetime) -> list[tuple]:
    """
    Cut [lo, hi) into pieces of constant UTC offset: probe every 30 minutes, then bisect
    each change down to the microsecond (no zone changes its offset twice in 30 minutes).
    """

    def offset(at: dt.datetime) -> dt.timedelta:
        value = at.astimezone(zone).utcoffset()
        assert value is not None
        return value

    pieces = []
    start, current, probe = lo, offset(lo), lo
    while probe < hi:
        following = min(probe + dt.timedelta(minutes=30), hi)
        last = following if following < hi else hi - US
        if offset(last) == current:
            probe = following
            continue
        low, high = probe, last  # offset(low) == current != offset(high)
        while high - low > US:
            middle = low + (high - low) // 2
            if offset(middle) == current:
                low = middle
            else:
                high = middle
        pieces.append((start, high, current))
        start, current, probe = high, offset(high), high
    pieces.append((start, hi, current))
    return pieces


def business(zone: ZoneInfo, by_day: dict, lo: dt.datetime, hi: dt.datetime) -> list[tuple]:
    spans = []
    for piece_lo, piece_hi, offset in offset_pieces(zone, lo, hi):
        local_lo = (piece_lo + offset).replace(tzinfo=None)
        local_hi = (piece_hi + offset).replace(tzinfo=None)
        day = dt.datetime.combine(local_lo.date(), dt.time()) - DAY
        while day < local_hi:
            for start, end in by_day.get(day.weekday(), ()):
                a, b = max(day + start, local_lo), min(day + end, local_hi)
                if a < b:
                    spans.append((a.replace(tzinfo=UTC) - offset, b.replace(tzinfo=UTC) - offset))
            day += DAY
    spans.sort()
    merged: list[list] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(tick(a), tick(b)) for a, b in merged]


def tick(at: dt.datetime) -> int:
    """Half-microseconds since the epoch: midpoints of polls are exact."""
    return 2 * ((at - EPOCH) // US)


def measure(spans: list[tuple[int, int]], polls: list[tuple[int, bool]], lo: int) -> tuple:
    """
    Active and inactive ticks of the business spans at or after ``lo``: each poll holds
    from the midpoint with the one before to the midpoint with the one after.
    """
    segments = []
    for index, (at, active) in enumerate(polls):
        seg_lo = -(10**30) if index == 0 else (polls[index - 1][0] + at) // 2
        seg_hi = 10**30 if index == len(polls) - 1 else (at + polls[index + 1][0]) // 2
        segments.append((seg_lo, seg_hi, active))
    up = down = 0
    first = 0
    for start, end in spans:
        start = max(start, lo)
        if start >= end:
            continue
        while segments[first][1] <= start:
            first += 1
        index = first
        while index < len(segments) and segments[index][0] < end:
            seg_lo, seg_hi, active = segments[index]
            overlap = min(seg_hi, end) - max(seg_lo, start)
            if overlap > 0:
                if active:
                    up += overlap
                else:
                    down += overlap
            index += 1
    return up, down


def two_decimals(value: Fraction) -> str:
    hundredths = (200 * value.numerator + value.denominator) // (2 * value.denominator)
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def report(polls: list, hours: list, zones: list) -> str:
    by_store: dict[str, dict[dt.datetime, bool]] = defaultdict(dict)
    for store_id, at, status in polls:
        by_store[store_id][at] = status.strip().lower() == "active"
    hours_by: dict[str, list] = defaultdict(list)
    for store_id, day, start, end in hours:
        hours_by[store_id].append((day, start, end))
    zone_of = dict(zones)
    as_of = max(at for store in by_store.values() for at in store)
    lo_week = as_of - dt.timedelta(days=7)
    lines = [HEADER]
    for store_id in sorted(by_store):
        ordered = sorted((at, active) for at, active in by_store[store_id].items() if at <= as_of)
        if not ordered:
            continue
        zone = ZoneInfo(zone_of.get(store_id, "America/Chicago"))
        spans = business(zone, weekly(hours_by.get(store_id, [])), lo_week, as_of)
        # In half-microseconds, the midpoint of two polls (2a + 2b) // 2 is exact.
        ticks = [(tick(at), active) for at, active in ordered]
        values = {}
        for name, length, unit in (
            ("hour", dt.timedelta(hours=1), 60 * 2_000_000),
            ("day", dt.timedelta(days=1), 3600 * 2_000_000),
            ("week", dt.timedelta(days=7), 3600 * 2_000_000),
        ):
            up, down = measure(spans, ticks, tick(as_of - length))
            values[name] = (Fraction(up, unit), Fraction(down, unit))
        lines.append(
            ",".join(
                [store_id]
                + [two_decimals(values[name][0]) for name in ("hour", "day", "week")]
                + [two_decimals(values[name][1]) for name in ("hour", "day", "week")]
            )
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=("ingest", "report-db", "report"))
    parser.add_argument("db", nargs="?")
    parser.add_argument("--status")
    parser.add_argument("--business-hours")
    parser.add_argument("--timezones")
    parser.add_argument("--output")
    args = parser.parse_args()
    if args.command == "ingest":
        polls, hours, zones = load_csv(args)
        connection = sqlite3.connect(args.db)
        connection.executescript(
            "CREATE TABLE IF NOT EXISTS polls (store_id TEXT, at TEXT, status TEXT,"
            " PRIMARY KEY (store_id, at));"
            "CREATE TABLE IF NOT EXISTS hours (store_id TEXT, day INT, start TEXT, end TEXT);"
            "CREATE TABLE IF NOT EXISTS zones (store_id TEXT PRIMARY KEY, zone TEXT);"
            "DELETE FROM hours; DELETE FROM zones;"
        )
        with connection:
            for store_id, at, status in polls:
                connection.execute(
                    "INSERT OR REPLACE INTO polls VALUES (?, ?, ?)",
                    (store_id, at.isoformat(), status),
                )
            connection.executemany("INSERT INTO hours VALUES (?, ?, ?, ?)", hours)
            connection.executemany("INSERT OR REPLACE INTO zones VALUES (?, ?)", zones)
        connection.close()
        return 0
    if args.command == "report-db":
        connection = sqlite3.connect(args.db)
        polls = [
            (store_id, dt.datetime.fromisoformat(at), status)
            for store_id, at, status in connection.execute("SELECT * FROM polls")
        ]
        hours = list(connection.execute("SELECT * FROM hours"))
        zones = list(connection.execute("SELECT * FROM zones"))
        connection.close()
    else:
        polls, hours, zones = load_csv(args)
    text = report(polls, hours, zones)
    with open(args.output, "w", encoding="utf-8", newline="") as out:
        out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
