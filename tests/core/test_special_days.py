"""
Pinned cases for SEMANTICS.md "Special days", one or more per sentence, and the worked
examples of docs/semantics.md. Every number was worked out by hand.

Unless a test says otherwise the zone is America/Chicago in winter (UTC-6), so local
midnight is 06:00 UTC.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from storemon.errors import DataError
from storemon.localtime import Schedule, special_rows_in_window, window_dates, zone_for
from storemon.model import WEEK_US, SpecialHoursRow
from tests.core.pinned import (
    always_active,
    business_hours,
    hourly,
    in_units,
    store_ticks,
    utc,
)
from tests.core.support import epoch_us, special_row, week_business_us

EVERY_DAY_9_TO_5 = [(day, "09:00:00", "17:00:00") for day in range(7)]
#: Monday 2024-01-08 00:00 CST: the week window is Monday 1 to Sunday 7 January, local.
JAN_8 = utc(2024, 1, 8, 6)


def test_worked_example_a_closed_holiday() -> None:
    """Closed on Christmas: the 8 inactive hours of that day are neither up nor down."""
    # Open 09:00-17:00 every day; polled every hour; inactive all of Monday 25 December.
    as_of = utc(2023, 12, 27, 6)  # Wednesday 00:00 CST: the week is 20 to 26 December
    polls = [
        *hourly(utc(2023, 12, 19, 6), utc(2023, 12, 25, 5)),
        *hourly(utc(2023, 12, 25, 6), utc(2023, 12, 26, 5), active=False),
        *hourly(utc(2023, 12, 26, 6), utc(2023, 12, 27, 5)),
    ]
    plain = store_ticks(EVERY_DAY_9_TO_5, polls, as_of)
    assert in_units(plain.uptime) == (48, 8, 0)
    assert in_units(plain.downtime) == (8, 0, 0)
    holiday = store_ticks(EVERY_DAY_9_TO_5, polls, as_of, special=[("2023-12-25", "", "")])
    assert in_units(holiday.uptime) == (48, 8, 0)
    assert in_units(holiday.downtime) == (0, 0, 0)
    assert holiday.unknown == (0, 0, 0)


def test_worked_example_a_special_overnight_row() -> None:
    """New Year's Eve 20:00 -> 02:00: 4 h on the 31st, and 2 h more on 1 January."""
    as_of = utc(2024, 1, 2, 6)  # Tuesday 00:00 CST: the week is 26 December to 1 January
    special = [("2023-12-31", "20:00:00", "02:00:00")]
    ticks = store_ticks(EVERY_DAY_9_TO_5, always_active(as_of), as_of, special=special)
    # 26-30 December 5 x 8 h, the 31st 20:00-24:00, 1 January 00:00-02:00 and 09:00-17:00.
    assert in_units(ticks.uptime) == (54, 10, 0)
    plain = store_ticks(EVERY_DAY_9_TO_5, always_active(as_of), as_of)
    assert in_units(plain.uptime) == (56, 8, 0)


def test_special_rows_replace_the_weekly_rows_of_their_date_only() -> None:
    """Special hours on Wednesday 3 January replace that Wednesday's rows and no other day's."""
    special = [("2024-01-03", "12:00:00", "14:00:00")]
    ticks = store_ticks(EVERY_DAY_9_TO_5, always_active(JAN_8), JAN_8, special=special)
    assert business_hours(ticks) == 6 * 8 + 2


def test_the_date_is_the_stores_local_date() -> None:
    """A closed date in Asia/Kolkata removes 18:30 UTC the day before to 18:30 UTC that day."""
    as_of = utc(2024, 3, 8)
    spans = week_business_us("Asia/Kolkata", [], [("2024-03-05", "", "")], as_of)
    assert spans == (
        (epoch_us(as_of) - WEEK_US, epoch_us(utc(2024, 3, 4, 18, 30))),
        (epoch_us(utc(2024, 3, 5, 18, 30)), epoch_us(as_of)),
    )


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("09:00:00", "17:00:00", Fraction(8)),
        ("20:00:00", "03:00:00", Fraction(7)),  # past midnight into Saturday
        ("09:00:00", "09:00:00", Fraction(24)),  # start == end: 24 hours
        ("00:00:00", "23:59:00", Fraction(24)),  # 23:59:00 is midnight
        ("00:00:00", "23:59:59", Fraction(24)),
        ("00:00:00", "24:00:00", Fraction(24)),
        ("00:00:00", "23:58:59", Fraction(23 * 3600 + 58 * 60 + 59, 3600)),  # literal
    ],
)
def test_special_times_follow_the_rules_of_weekly_rows(
    start: str, end: str, hours: Fraction
) -> None:
    """Past midnight, start == end, 23:59 and 24:00 ends read as in weekly rows."""
    # Open only Wednesdays 10:00-11:00 besides the special Friday 5 January.
    special = [("2024-01-05", start, end)]
    ticks = store_ticks([(2, "10:00:00", "11:00:00")], always_active(JAN_8), JAN_8, special=special)
    assert business_hours(ticks) == 1 + hours


@pytest.mark.parametrize(
    ("date", "start", "end", "as_of", "hours"),
    [
        ("2024-03-10", "00:00:00", "00:00:00", utc(2024, 3, 11, 12), 23),  # spring forward
        ("2024-11-03", "00:00:00", "00:00:00", utc(2024, 11, 4, 12), 25),  # fall back
        ("2024-03-10", "02:30:00", "05:00:00", utc(2024, 3, 11, 12), 2),  # opens at the jump
        ("2024-11-03", "01:00:00", "01:30:00", utc(2024, 11, 4, 12), 1),  # both passes
        ("2024-03-09", "22:00:00", "03:15:00", utc(2024, 3, 11, 12), Fraction(17, 4)),
    ],
)
def test_special_rows_follow_the_wall_clock_on_dst_days(
    date: str, start: str, end: str, as_of: dt.datetime, hours: Fraction
) -> None:
    """A special row on a DST day counts the hours the wall clock shows, as in SEMANTICS.md."""
    # Weekly rows only on Wednesday 10:00-11:00 (inside the week window too).
    ticks = store_ticks(
        [(2, "10:00:00", "11:00:00")], always_active(as_of), as_of, special=[(date, start, end)]
    )
    assert business_hours(ticks) == 1 + hours


@pytest.mark.parametrize(
    ("date", "as_of", "removed"),
    [
        ("2024-03-10", utc(2024, 3, 11, 12), 23),
        ("2024-11-03", utc(2024, 11, 4, 12), 25),
        ("2024-01-03", JAN_8, 24),
    ],
)
def test_closing_a_dst_day_removes_its_wall_clock_length(
    date: str, as_of: dt.datetime, removed: int
) -> None:
    """Closing a date of a store open all the time removes 23, 25 or 24 physical hours."""
    ticks = store_ticks([], always_active(as_of), as_of, special=[(date, "", "")])
    assert business_hours(ticks) == 168 - removed


def test_rows_of_one_date_combine_like_weekly_rows() -> None:
    """Overlapping special rows of one date count once; a closed row beside them adds nothing."""
    overlapping = [("2024-01-05", "09:00:00", "13:00:00"), ("2024-01-05", "12:00:00", "17:00:00")]
    ticks = store_ticks([], always_active(JAN_8), JAN_8, special=overlapping)
    assert business_hours(ticks) == 168 - 24 + 8
    with_closed = [("2024-01-05", "", ""), ("2024-01-05", "10:00:00", "12:00:00")]
    ticks = store_ticks([], always_active(JAN_8), JAN_8, special=with_closed)
    assert business_hours(ticks) == 168 - 24 + 2


FRIDAY_NIGHT = [(4, "22:00:00", "02:00:00")]


def test_an_overnight_weekly_row_runs_into_a_closed_special_date() -> None:
    """Friday 22:00 -> 02:00 still runs until Saturday 02:00 when Saturday is closed."""
    ticks = store_ticks(FRIDAY_NIGHT, always_active(JAN_8), JAN_8, special=[("2024-01-06", "", "")])
    assert business_hours(ticks) == 4


def test_closing_the_start_date_removes_the_part_past_midnight_too() -> None:
    """Closing Friday removes Friday 22:00 -> Saturday 02:00 whole, Saturday's part too."""
    ticks = store_ticks(FRIDAY_NIGHT, always_active(JAN_8), JAN_8, special=[("2024-01-05", "", "")])
    assert business_hours(ticks) == 0


def test_a_special_date_ignores_its_own_weekly_rows_but_not_the_day_befores() -> None:
    """Special Saturday 10-12: Friday's row still covers 00-02, Saturday's own 00-05 is gone."""
    hours = [*FRIDAY_NIGHT, (5, "00:00:00", "05:00:00")]
    plain = store_ticks(hours, always_active(JAN_8), JAN_8)
    assert business_hours(plain) == 7  # Friday 22:00 to Saturday 05:00
    special = store_ticks(
        hours, always_active(JAN_8), JAN_8, special=[("2024-01-06", "10:00:00", "12:00:00")]
    )
    assert business_hours(special) == 4 + 2


@pytest.mark.parametrize(
    ("saturday", "hours"),
    [
        ([], 7 + 8),  # Saturday keeps its weekly 09:00-17:00
        ([("2024-01-06", "", "")], 7),  # closed: the Friday row still runs to 03:00
        ([("2024-01-06", "01:00:00", "04:00:00")], 8),  # Friday 20:00 to Saturday 04:00
    ],
)
def test_a_special_row_past_midnight_runs_into_the_next_date_whatever_it_is(
    saturday: list[tuple[str, str, str]], hours: int
) -> None:
    """Special Friday 20:00 -> 03:00 runs into Saturday, normal, closed or special."""
    special = [("2024-01-05", "20:00:00", "03:00:00"), *saturday]
    ticks = store_ticks([(5, "09:00:00", "17:00:00")], always_active(JAN_8), JAN_8, special=special)
    assert business_hours(ticks) == hours


@pytest.mark.parametrize(
    ("special", "hours"),
    [
        ([], 168),
        ([("2024-01-05", "", "")], 168 - 24),
        ([("2024-01-05", "09:00:00", "17:00:00")], 168 - 24 + 8),
        # 00:00-20:00 closed; past midnight the next date is open all day anyway.
        ([("2024-01-05", "20:00:00", "02:00:00")], 168 - 20),
    ],
)
def test_a_store_with_only_special_rows_is_open_except_on_its_special_dates(
    special: list[tuple[str, str, str]], hours: int
) -> None:
    """Without weekly rows a store is open all the time; its special dates' rows decide them."""
    ticks = store_ticks([], always_active(JAN_8), JAN_8, special=special)
    assert business_hours(ticks) == hours


def test_special_rows_that_cannot_reach_the_window_are_left_out() -> None:
    """The day before the window stays (its overnight row reaches in); far dates go."""
    zone = zone_for("America/Chicago")
    now_us = epoch_us(JAN_8)
    assert window_dates(zone, now_us - WEEK_US, now_us) == (
        dt.date(2023, 12, 31),
        dt.date(2024, 1, 7),
    )
    rows = [
        special_row("2023-06-01"),
        special_row("2023-12-30", "20:00:00", "02:00:00"),
        special_row("2023-12-31", "20:00:00", "02:00:00"),
        special_row("2024-01-08", "20:00:00", "02:00:00"),
    ]
    assert special_rows_in_window(zone, rows, now_us - WEEK_US, now_us) == (rows[2],)
    # Sunday 31 December's row reaches 00:00-02:00 of Monday 1 January, inside the week.
    ticks = store_ticks(
        EVERY_DAY_9_TO_5,
        always_active(JAN_8),
        JAN_8,
        special=[("2023-12-31", "20:00:00", "02:00:00")],
    )
    assert business_hours(ticks) == 7 * 8 + 2


def test_equal_special_rows_give_equal_schedules() -> None:
    """Schedules of the same rows in another order are equal, so reports can share spans."""
    rows = [special_row("2024-01-05", "20:00:00", "02:00:00"), special_row("2024-01-06")]
    assert Schedule.of([], rows) == Schedule.of([], rows[::-1])
    assert hash(Schedule.of([], rows)) == hash(Schedule.of([], rows[::-1]))
    assert Schedule.of([], rows) != Schedule.of([], rows[:1])


def test_special_hours_rows_refuse_half_closed_rows() -> None:
    """A special row has both times or neither, a date and naive times."""
    date = dt.date(2024, 1, 5)
    with pytest.raises(DataError, match="both times"):
        SpecialHoursRow(date, dt.time(9), None)
    with pytest.raises(DataError, match="calendar date"):
        SpecialHoursRow(dt.datetime(2024, 1, 5, tzinfo=dt.UTC), dt.time(9), dt.time(10))
    with pytest.raises(DataError, match="naive"):
        SpecialHoursRow(date, dt.time(9, tzinfo=dt.UTC), dt.time(10))
    with pytest.raises(DataError, match="closed date"):
        SpecialHoursRow(date, end_is_midnight=True)
    assert SpecialHoursRow(date).is_closed
    assert not SpecialHoursRow(date, dt.time(9), dt.time(0), end_is_midnight=True).is_closed
