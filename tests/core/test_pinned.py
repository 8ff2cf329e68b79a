"""
Pinned examples: every number here was worked out by hand from SEMANTICS.md.
"""

from __future__ import annotations

import datetime as dt
import io
from fractions import Fraction

import pytest

from storemon import (
    DEFAULT_ZONE_KEY,
    REPORT_HEADER,
    DataError,
    Poll,
    Report,
    ReportRow,
    StoreSnapshot,
    compute_report,
    format_value,
    load_csv,
)
from tests.core.pinned import utc
from tests.core.support import csv_bytes, snapshot_of
from tests.strategies import StoreCase

UTC = dt.UTC
H = Fraction(1)  # hours
MIN = Fraction(1)  # minutes


def one_row(
    hours: list[tuple[int, str, str]],
    polls: list[tuple[dt.datetime, bool]],
    as_of: dt.datetime,
    zone_key: str | None = None,
) -> ReportRow:
    report = compute_report(
        [snapshot_of(StoreCase("store", zone_key, as_of, hours, polls))], as_of=as_of
    )
    assert len(report.rows) == 1
    return report.rows[0]


# SEMANTICS.md's DST table, America/Chicago: (hours, spring-forward Sunday, fall-back Sunday).
DST_TABLE = [
    ([(6, "00:00:00", "05:00:00")], 4 * H, 6 * H),
    ([(6, "02:30:00", "05:00:00")], 2 * H, Fraction(5, 2) * H),
    ([(6, "01:00:00", "01:30:00")], Fraction(1, 2) * H, 1 * H),
    ([(5, "22:00:00", "03:15:00")], Fraction(17, 4) * H, Fraction(25, 4) * H),
    ([(6, "00:00:00", "00:00:00")], 23 * H, 25 * H),
]
# Monday noon UTC after each Sunday: the week window then starts on the previous Monday,
# after every earlier occurrence of these rows, and holds the Saturday night and Sunday.
SPRING_AS_OF = utc(2024, 3, 11, 12)
FALL_AS_OF = utc(2024, 11, 4, 12)


@pytest.mark.parametrize("active", [True, False], ids=["active", "inactive"])
@pytest.mark.parametrize(("hours", "spring", "fall"), DST_TABLE, ids=lambda v: str(v))
def test_dst_table_of_the_contract(
    hours: list[tuple[int, str, str]], spring: Fraction, fall: Fraction, active: bool
) -> None:
    """Each row of the DST table in SEMANTICS.md gives exactly its hours on both Sundays."""
    for as_of, expected in ((SPRING_AS_OF, spring), (FALL_AS_OF, fall)):
        polls = [(as_of - dt.timedelta(days=10), active)]
        row = one_row(hours, polls, as_of, "America/Chicago")
        up, down = (expected, Fraction(0)) if active else (Fraction(0), expected)
        assert (row.uptime_last_week, row.downtime_last_week) == (up, down)


def test_last_day_on_dst_sundays_is_a_physical_24_hours() -> None:
    """The last-day window is 24 physical hours: on the 23-hour Sunday it reaches into Saturday."""
    sunday_all_day = [(6, "00:00:00", "00:00:00")]
    # Monday 00:00 CDT: the window starts Saturday 23:00 CST, closed.
    spring = one_row(
        sunday_all_day, [(utc(2024, 3, 1), True)], utc(2024, 3, 11, 5), "America/Chicago"
    )
    assert spring.uptime_last_day == 23 * H
    # Monday 00:00 CST: the window starts Sunday 01:00 CDT and is all Sunday.
    fall = one_row(
        sunday_all_day, [(utc(2024, 11, 1), True)], utc(2024, 11, 4, 6), "America/Chicago"
    )
    assert fall.uptime_last_day == 24 * H
    assert fall.uptime_last_week == 25 * H


def test_assignment_example() -> None:
    """Open 09:00-12:00, active 10:14, inactive 11:15: up 1 h 44.5 min, down 1 h 15.5 min."""
    # Tuesday 2023-01-24 in America/Chicago (UTC-6): 10:14 CST is 16:14 UTC.
    polls = [(utc(2023, 1, 24, 16, 14), True), (utc(2023, 1, 24, 17, 15), False)]
    as_of = utc(2023, 1, 24, 18)  # 12:00 CST, the closing time
    row = one_row([(1, "09:00:00", "12:00:00")], polls, as_of, "America/Chicago")
    assert row.uptime_last_day == Fraction(104 * 60 + 30, 3600)
    assert row.downtime_last_day == Fraction(75 * 60 + 30, 3600)
    assert row.uptime_last_week == Fraction(104 * 60 + 30, 3600)
    assert row.downtime_last_week == Fraction(75 * 60 + 30, 3600)
    # The last hour, 11:00-12:00 CST, is all after the 10:44:30 change.
    assert row.uptime_last_hour == 0
    assert row.downtime_last_hour == 60 * MIN
    assert format_value(row.uptime_last_day) == "1.74"
    assert format_value(row.downtime_last_day) == "1.26"


def test_missing_zone_defaults_to_america_chicago() -> None:
    """A store without a zone row keeps its hours in America/Chicago, not UTC or another zone."""
    assert DEFAULT_ZONE_KEY == "America/Chicago"
    hours = [(0, "09:00:00", "10:00:00")]  # Monday
    as_of = utc(2023, 1, 23, 16)  # Monday 10:00 CST, 11:00 EST
    polls = [(utc(2023, 1, 23, 15, 30), True)]
    assert one_row(hours, polls, as_of, None).uptime_last_hour == 60 * MIN
    assert one_row(hours, polls, as_of, "America/Chicago").uptime_last_hour == 60 * MIN
    assert one_row(hours, polls, as_of, "America/New_York").uptime_last_hour == 0
    assert one_row(hours, polls, as_of, "UTC").uptime_last_hour == 0


def test_no_hours_means_open_all_the_time() -> None:
    """A store without hours rows is open 24x7: 60 minutes, 24 hours and 168 hours of business."""
    row = one_row([], [(utc(2023, 1, 20), True), (utc(2023, 1, 25), False)], utc(2023, 1, 26))
    assert row.uptime_last_hour + row.downtime_last_hour == 60 * MIN
    assert row.uptime_last_day + row.downtime_last_day == 24 * H
    assert row.uptime_last_week + row.downtime_last_week == 168 * H
    # The week starts 2023-01-19 00:00; the change is at the midpoint, 2023-01-22 12:00 UTC:
    # 3.5 days up, then 3.5 days down.
    assert row.uptime_last_week == 84 * H
    assert row.downtime_last_week == 84 * H


def test_days_without_rows_are_closed() -> None:
    """A store with rows for Monday only is closed the other six days."""
    hours = [(0, "00:00:00", "23:59:59")]
    row = one_row(hours, [(utc(2024, 1, 1), True)], utc(2024, 1, 14, 12), "UTC")  # Sunday noon
    assert row.uptime_last_week == 24 * H
    assert row.uptime_last_day == 0
    assert row.downtime_last_day == 0


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        ("23:59:00", 24 * H),
        ("23:59", 24 * H),
        ("23:59:59", 24 * H),
        ("24:00:00", 24 * H),
        ("23:58:59", Fraction(23 * 3600 + 58 * 60 + 59, 3600)),
        ("12:00:00", 12 * H),
    ],
)
def test_end_of_day_spellings(end: str, expected: Fraction) -> None:
    """A same-day end of 23:59:00 or later means midnight; earlier ends are literal."""
    row = one_row([(0, "00:00:00", end)], [(utc(2024, 1, 1), True)], utc(2024, 1, 9), "UTC")
    assert row.uptime_last_week == expected


def test_split_at_midnight_store_is_open_without_a_nightly_gap() -> None:
    """Two rows per day, 00:00-01:00 and 11:00-23:59:59, give 14 hours a day with no minute lost."""
    hours = [
        row for day in range(7) for row in ((day, "00:00", "01:00"), (day, "11:00", "23:59:59"))
    ]
    row = one_row(hours, [(utc(2024, 1, 1), True)], utc(2024, 1, 10), "UTC")  # Wednesday 00:00
    assert row.uptime_last_week == 7 * 14 * H
    assert row.uptime_last_day == 14 * H


def test_overnight_and_overlapping_rows() -> None:
    """A Friday 22:00-02:00 row covers four hours into Saturday; overlapping rows count once."""
    as_of = utc(2024, 1, 8, 12)  # Monday noon UTC; the week starts Monday 2024-01-01 12:00
    polls = [(utc(2024, 1, 1), True)]
    assert one_row([(4, "22:00:00", "02:00:00")], polls, as_of, "UTC").uptime_last_week == 4 * H
    overlapping = [(2, "09:00", "17:00"), (2, "12:00", "20:00"), (2, "10:00", "11:00")]
    assert one_row(overlapping, polls, as_of, "UTC").uptime_last_week == 11 * H
    # Sunday 22:00 -> 02:00 wraps to Monday: 2024-01-07 22:00 to 2024-01-08 02:00.
    assert one_row([(6, "22:00", "02:00")], polls, as_of, "UTC").uptime_last_week == 4 * H
    # start == end is 24 hours, from Wednesday 09:00 to Thursday 09:00.
    assert one_row([(2, "09:00", "09:00")], polls, as_of, "UTC").uptime_last_week == 24 * H


def test_lord_howe_thirty_minute_shifts() -> None:
    """Australia/Lord_Howe moves its clock by 30 minutes: a 23.5-hour and a 24.5-hour Sunday."""
    zone = "Australia/Lord_Howe"
    # 2024-10-06 02:00 +10:30 becomes 02:30 +11:00.
    spring_as_of = utc(2024, 10, 7, 12)
    polls = [(utc(2024, 9, 1), True)]
    assert one_row([(6, "00:00", "00:00")], polls, spring_as_of, zone).uptime_last_week == Fraction(
        47, 2
    )
    assert one_row([(6, "02:00", "03:00")], polls, spring_as_of, zone).uptime_last_week == Fraction(
        1, 2
    )
    # 2024-04-07 02:00 +11:00 becomes 01:30 +10:30: 01:30-02:00 is shown twice.
    fall_as_of = utc(2024, 4, 8, 12)
    polls = [(utc(2024, 3, 1), True)]
    assert one_row([(6, "00:00", "00:00")], polls, fall_as_of, zone).uptime_last_week == Fraction(
        49, 2
    )
    assert one_row([(6, "01:30", "02:00")], polls, fall_as_of, zone).uptime_last_week == 1 * H


def test_kolkata_half_hour_offset() -> None:
    """Asia/Kolkata (+05:30): Monday 09:00-17:00 IST is 03:30-11:30 UTC, split at the midpoint."""
    hours = [(0, "09:00:00", "17:00:00")]
    polls = [(utc(2024, 1, 8, 3), True), (utc(2024, 1, 8, 11, 20), False)]
    row = one_row(hours, polls, utc(2024, 1, 8, 12), "Asia/Kolkata")
    # Midpoint 07:10 UTC: up 03:30-07:10, down 07:10-11:30; the last hour holds 11:00-11:30.
    assert row.uptime_last_day == Fraction(11, 3)
    assert row.downtime_last_day == Fraction(13, 3)
    assert (row.uptime_last_week, row.downtime_last_week) == (Fraction(11, 3), Fraction(13, 3))
    assert (row.uptime_last_hour, row.downtime_last_hour) == (Fraction(0), 30 * MIN)


def test_status_before_the_first_and_after_the_last_poll() -> None:
    """Before the first poll the first status holds; after the last poll the last holds."""
    polls = [(utc(2024, 1, 8, 6), False), (utc(2024, 1, 8, 8), True)]
    row = one_row([], polls, utc(2024, 1, 8, 12), "UTC")
    # Change at 07:00: the day window (from 2024-01-07 12:00) is 19 h down and 5 h up.
    assert (row.uptime_last_day, row.downtime_last_day) == (5 * H, 19 * H)


def _status_file(rows: list[tuple[str, str, str]]) -> io.BytesIO:
    return io.BytesIO(csv_bytes(("store_id", "status", "timestamp_utc"), rows))


def test_same_instant_polls_the_later_row_wins() -> None:
    """Two polls of one store at one instant are one poll, with the status of the later row."""
    at = "2024-01-08 11:00:00 UTC"
    as_of = utc(2024, 1, 8, 12)
    down_last = load_csv(_status_file([("s", "active", at), ("s", "inactive", at)]))
    up_last = load_csv(_status_file([("s", "inactive", at), ("s", "active", at)]))
    assert down_last.report(as_of).rows[0].downtime_last_hour == 60 * MIN
    assert up_last.report(as_of).rows[0].uptime_last_hour == 60 * MIN


def test_ids_survive_byte_for_byte() -> None:
    """A 19-digit id, a UUID and an id with leading zeros come out exactly as written."""
    ids = ["9222367421889482050", "982bc638-2cf1-4f37-9e0b-2a6bcbf4a2f1", "309081616338296", "007"]
    rows = [(store_id, "active", "2023-01-25 18:13:22.47922 UTC") for store_id in ids]
    report = load_csv(_status_file(rows)).report()
    lines = report.to_csv().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == sorted(ids)
    assert [row.store_id for row in report.rows] == sorted(ids)


def test_timestamp_without_fraction() -> None:
    """A timestamp without a fraction reads as the whole second and can be the report's as_of."""
    report = load_csv(_status_file([("s", "active", "2023-01-25 18:13:22 UTC")])).report()
    assert report.as_of == utc(2023, 1, 25, 18, 13, 22)
    assert report.rows[0].uptime_last_hour == 60 * MIN


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(0), "0.00"),
        (Fraction(25, 2), "12.50"),
        (Fraction(168), "168.00"),
        (Fraction(1, 3), "0.33"),
        (Fraction(2, 3), "0.67"),
        (Fraction(1, 200), "0.01"),  # 0.005: half rounds up
        (Fraction(1, 201), "0.00"),
        (Fraction(349, 200), "1.75"),  # 1.745, which a float would turn into 1.74
        (Fraction(4449, 10000), "0.44"),  # rounded once, not 0.445 then 0.45
        (Fraction(99999, 1000), "100.00"),
        (Fraction(209, 120), "1.74"),
    ],
)
def test_format_value_two_decimals(value: Fraction, text: str) -> None:
    """Values are written with exactly two decimals, rounded once from the exact value."""
    assert format_value(value) == text


def test_report_header_is_exact() -> None:
    """The CSV header is exactly the one in SEMANTICS.md, and an empty report is just that line."""
    header = (
        "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,"
        "downtime_last_hour,downtime_last_day,downtime_last_week"
    )
    assert ",".join(REPORT_HEADER) == header
    assert Report(as_of=utc(2024, 1, 1), rows=()).to_csv() == header + "\n"


def test_report_csv_rows() -> None:
    """A report row is written as the id followed by six two-decimal values, in header order."""
    rows = [
        ("b", "active", "2024-01-08 11:30:00 UTC"),
        ("a", "inactive", "2024-01-08 11:30:00 UTC"),
        ("10", "active", "2024-01-08 11:30:00 UTC"),
    ]
    text = load_csv(_status_file(rows)).report(utc(2024, 1, 8, 12)).to_csv()
    assert text.splitlines()[1:] == [
        "10,60.00,24.00,168.00,0.00,0.00,0.00",
        "a,0.00,0.00,0.00,60.00,24.00,168.00",
        "b,60.00,24.00,168.00,0.00,0.00,0.00",
    ]


def test_store_with_only_later_polls_is_left_out() -> None:
    """A store whose every poll is after as_of has no row; as_of itself counts as before."""
    rows = [
        ("late", "active", "2024-01-08 12:00:00.000001 UTC"),
        ("on-time", "active", "2024-01-08 12:00:00 UTC"),
    ]
    report = load_csv(_status_file(rows)).report(utc(2024, 1, 8, 12))
    assert [row.store_id for row in report.rows] == ["on-time"]


def test_apia_skipped_a_whole_friday() -> None:
    """Pacific/Apia skipped Friday 2011-12-30 entirely, so Friday hours that week count zero."""
    zone = "Pacific/Apia"
    as_of = utc(2012, 1, 2, 12)  # the week starts Monday 2011-12-26 02:00 local
    polls = [(utc(2011, 12, 1), True)]
    all_day = "00:00:00"
    thursday, friday, saturday = 3, 4, 5
    assert one_row([(friday, all_day, all_day)], polls, as_of, zone).uptime_last_week == 0
    assert one_row([(thursday, all_day, all_day)], polls, as_of, zone).uptime_last_week == 24 * H
    week = [(day, all_day, all_day) for day in (thursday, friday, saturday)]
    assert one_row(week, polls, as_of, zone).uptime_last_week == 48 * H


def test_naive_and_unknown_inputs_are_refused() -> None:
    """A naive instant or unknown default zone raises DataError; a store's unknown zone skips it."""
    with pytest.raises(DataError, match="naive"):
        compute_report([], as_of=dt.datetime(2024, 1, 1))
    with pytest.raises(DataError, match="naive"):
        Poll("s", dt.datetime(2024, 1, 1), True)
    with pytest.raises(DataError, match="Mars/Olympus_Mons"):
        compute_report([], as_of=utc(2024, 1, 1), default_zone_key="Mars/Olympus_Mons")
    snapshot = StoreSnapshot("s", "Mars/Olympus_Mons", (), [0], [True])
    report = compute_report([snapshot], as_of=utc(2024, 1, 1))
    assert report.rows == ()
    assert "Mars/Olympus_Mons" in report.skipped[0].reason
