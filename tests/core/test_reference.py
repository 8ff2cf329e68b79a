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
