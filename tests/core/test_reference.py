"""
The brute-force reference itself reproduces the contract's worked examples.

The properties trust ``tests.reference``; these checks keep it honest against numbers
worked out by hand, independently of the engine.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from tests.reference import day_intervals, reference_store, time_of_day_us

UTC = dt.UTC
HOUR_S = Fraction(3600)


def within(result_s: Fraction, expected_s: Fraction, tolerance_s: Fraction) -> bool:
    return abs(result_s - expected_s) <= tolerance_s


@pytest.mark.parametrize(
    ("hours", "spring_h", "fall_h"),
    [
        ([(6, "00:00:00", "05:00:00")], 4, 6),
        ([(6, "02:30:00", "05:00:00")], 2, Fraction(5, 2)),
        ([(6, "01:00:00", "01:30:00")], Fraction(1, 2), 1),
        ([(5, "22:00:00", "03:15:00")], Fraction(17, 4), Fraction(25, 4)),
        ([(6, "00:00:00", "00:00:00")], 23, 25),
    ],
)
def test_reference_reproduces_the_dst_table(
    hours: list[tuple[int, str, str]], spring_h: Fraction, fall_h: Fraction
) -> None:
    """The reference gives the DST table of SEMANTICS.md exactly (its grid is aligned there)."""
    for as_of, expected_h in (
        (dt.datetime(2024, 3, 11, 12, tzinfo=UTC), spring_h),
        (dt.datetime(2024, 11, 4, 12, tzinfo=UTC), fall_h),
    ):
        result = reference_store(
            [(as_of - dt.timedelta(days=10), True)], hours, "America/Chicago", as_of
        )
        assert result is not None
        week = result["week"]
        assert week.business_tolerance_s == 0
        assert week.offset_changes == 1
        assert week.business_s == week.uptime_s == expected_h * HOUR_S
        assert week.downtime_s == 0


def test_reference_reproduces_the_assignment_example() -> None:
    """The reference gives 1 h 44.5 min up and 1 h 15.5 min down, within its stated bound."""
    polls = [
        (dt.datetime(2023, 1, 24, 16, 14, tzinfo=UTC), True),
        (dt.datetime(2023, 1, 24, 17, 15, tzinfo=UTC), False),
    ]
    as_of = dt.datetime(2023, 1, 24, 18, tzinfo=UTC)
    result = reference_store(polls, [(1, "09:00:00", "12:00:00")], None, as_of)
    assert result is not None
    day = result["day"]
    assert day.status_changes == 1
    assert within(day.uptime_s, Fraction(104 * 60 + 30), day.tolerance_s)
    assert within(day.downtime_s, Fraction(75 * 60 + 30), day.tolerance_s)
    assert day.tolerance_s < 60


def test_reference_rules_for_hours_rows() -> None:
    """Late ends mean midnight, overnight rows spill into the next day, start == end is 24 h."""
    day = 86_400 * 10**6
    assert time_of_day_us("24:00:00", end=True) == day
    assert time_of_day_us("12:30:15.25") == (12 * 3600 + 30 * 60 + 15) * 10**6 + 250_000
    assert day_intervals([(0, "00:00:00", "23:59:59")])[0] == [(0, day)]
    assert day_intervals([(0, "00:00:00", "23:58:59")])[0] == [(0, day - 61 * 10**6)]
    spill = day_intervals([(6, "22:00:00", "02:00:00")])
    assert spill[6] == [(22 * 3600 * 10**6, day)]
    assert spill[0] == [(0, 2 * 3600 * 10**6)]
    whole = day_intervals([(2, "09:00", "09:00")])
    assert whole[2] == [(9 * 3600 * 10**6, day)]
    assert whole[3] == [(0, 9 * 3600 * 10**6)]


def test_reference_ignores_polls_after_as_of() -> None:
    """A store whose polls are all after as_of has no reference row."""
    as_of = dt.datetime(2024, 1, 1, tzinfo=UTC)
    later = [(as_of + dt.timedelta(microseconds=1), True)]
    assert reference_store(later, [], None, as_of) is None


def test_reference_reproduces_the_closed_holiday() -> None:
    """Closed on 25 December, open 09:00-17:00 daily: 48 h of business in the week, not 56."""
    as_of = dt.datetime(2023, 12, 27, 6, tzinfo=UTC)
    hours = [(day, "09:00:00", "17:00:00") for day in range(7)]
    polls = [(as_of - dt.timedelta(days=10), True)]
    plain = reference_store(polls, hours, "America/Chicago", as_of)
    holiday = reference_store(
        polls, hours, "America/Chicago", as_of, special=[("2023-12-25", "", "")]
    )
    assert plain is not None
    assert holiday is not None
    assert plain["week"].business_s == 56 * HOUR_S
    assert holiday["week"].business_s == 48 * HOUR_S
    assert holiday["week"].business_tolerance_s == 0


def test_reference_applies_the_start_date_rule() -> None:
    """Friday 22:00 -> 02:00 still runs into a closed Saturday; a special Friday row runs on."""
    as_of = dt.datetime(2024, 1, 8, 6, tzinfo=UTC)
    polls = [(as_of - dt.timedelta(days=10), True)]
    friday_night = [(4, "22:00:00", "02:00:00")]
    for special, expected_h in (
        ([("2024-01-06", "", "")], 4),
        ([("2024-01-05", "", "")], 0),
        ([("2024-01-05", "20:00:00", "03:00:00"), ("2024-01-06", "", "")], 7),
    ):
        result = reference_store(polls, friday_night, "America/Chicago", as_of, special=special)
        assert result is not None
        assert result["week"].business_s == expected_h * HOUR_S


def test_reference_reproduces_the_five_hour_hole() -> None:
    """Polls at 10:00 and 15:00 with G = 2 h: 2 h up, 3 h unknown, 3 h down in 09:00-17:00."""
    as_of = dt.datetime(2024, 1, 9, 23, tzinfo=UTC)  # 17:00 CST
    polls = [
        *((dt.datetime(2024, 1, 9, hour, tzinfo=UTC), True) for hour in (14, 15, 16)),
        *((dt.datetime(2024, 1, 9, hour, tzinfo=UTC), False) for hour in (21, 22, 23)),
    ]
    hours = [(1, "09:00:00", "17:00:00")]
    result = reference_store(polls, hours, "America/Chicago", as_of, max_gap_us=2 * 3600 * 10**6)
    assert result is not None
    day = result["day"]
    assert day.unknown_changes == 3  # 07:00 (before the first poll), 11:00 and 14:00
    assert within(day.uptime_s, 2 * HOUR_S, day.tolerance_s)
    assert within(day.unknown_s, 3 * HOUR_S, day.tolerance_s)
    assert within(day.downtime_s, 3 * HOUR_S, day.tolerance_s)
    # The grid is aligned with every boundary here, so the samples are exact too.
    assert (day.uptime_s, day.unknown_s, day.downtime_s) == (2 * HOUR_S, 3 * HOUR_S, 3 * HOUR_S)


def test_reference_counts_exactly_half_the_gap_as_known() -> None:
    """A sample exactly G/2 from a poll is known; one microsecond further is unknown."""
    as_of = dt.datetime(2024, 1, 9, 12, tzinfo=UTC)
    # One-second cells: the last cell's midpoint is 0.5 s before as_of.
    for gap_us, unknown_s in ((1_000_000, 0), (999_998, 1)):
        result = reference_store(
            [(as_of - dt.timedelta(hours=2), True), (as_of, True)],
            [],
            "UTC",
            as_of,
            max_gap_us=gap_us,
        )
        assert result is not None
        # Cells whose midpoint is further than G/2 from both polls: all but the last
        # (0.5 s from as_of) when G/2 is 0.5 s, and also that one when G/2 is just under.
        assert result["hour"].unknown_s == 3600 - 1 + unknown_s
