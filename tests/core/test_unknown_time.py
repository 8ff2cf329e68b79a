"""
Pinned cases for SEMANTICS.md "Unknown time", one or more per sentence, and the worked
examples of docs/semantics.md. Every number was worked out by hand.
"""

from __future__ import annotations

import datetime as dt

import pytest

from storemon.errors import DataError
from storemon.uptime import (
    AFTER_ALL_TICKS,
    BEFORE_ALL_TICKS,
    StatusTimeline,
    kept_polls_with_gaps,
    status_changes,
    status_timeline,
    summarise_ticks,
)
from tests.core.pinned import HOUR_US, hourly, in_units, store_ticks, utc

TWO_HOURS_US = 2 * HOUR_US
MINUTE_US = 60_000_000


def test_worked_example_a_hole_of_five_hours_with_a_two_hour_gap() -> None:
    """Polls at 10:00 then 15:00, G = 2 h: 11:00-14:00 is unknown, not split at 12:30."""
    # Tuesday 9 January 2024, open 09:00-17:00 in Chicago (UTC-6); now is 17:00 CST.
    as_of = utc(2024, 1, 9, 23)
    polls = [
        *hourly(utc(2024, 1, 9, 14), utc(2024, 1, 9, 16)),  # 08:00-10:00 active
        *hourly(utc(2024, 1, 9, 21), utc(2024, 1, 9, 23), active=False),  # 15:00-17:00
    ]
    hours = [(day, "09:00:00", "17:00:00") for day in range(7)]
    with_gap = store_ticks(hours, polls, as_of, max_gap_us=TWO_HOURS_US)
    # Last day: up 09:00-11:00, unknown 11:00-14:00, down 14:00-17:00; last hour down.
    assert in_units(with_gap.uptime)[1:] == (2, 0)
    assert in_units(with_gap.unknown)[1:] == (3, 0)
    assert in_units(with_gap.downtime)[1:] == (3, 60)
    # The six earlier days are before the first poll (08:00) by more than G/2: unknown.
    assert in_units(with_gap.unknown)[0] == 6 * 8 + 3
    without = store_ticks(hours, polls, as_of)
    assert in_units(without.uptime) == (6 * 8 + 3.5, 3.5, 0)
    assert in_units(without.downtime) == (4.5, 4.5, 60)
    assert without.unknown == (0, 0, 0)


def test_worked_example_polls_that_stopped_ten_hours_ago() -> None:
    """Hourly polls until 08:00, now 18:00, G = 2 h: the last 9 hours are unknown."""
    as_of = utc(2024, 1, 9, 18)
    polls = hourly(utc(2024, 1, 1), utc(2024, 1, 9, 8))
    with_gap = store_ticks([], polls, as_of, zone_key="UTC", max_gap_us=TWO_HOURS_US)
    assert in_units(with_gap.uptime) == (159, 15, 0)
    assert in_units(with_gap.unknown) == (9, 9, 60)
    assert in_units(with_gap.downtime) == (0, 0, 0)
    without = store_ticks([], polls, as_of, zone_key="UTC")
    assert in_units(without.uptime) == (168, 24, 60)


def test_time_further_than_half_the_gap_from_every_poll_is_neither_up_nor_down() -> None:
    """An active poll then an inactive one 4 h later, G = 1 h: 3 h unknown between them."""
    as_of = utc(2024, 1, 9, 12)
    polls = [(utc(2024, 1, 9, 7), True), (utc(2024, 1, 9, 11), False), (as_of, False)]
    ticks = store_ticks([], polls, as_of, zone_key="UTC", max_gap_us=HOUR_US)
    # The last day starts at 12:00 the day before: unknown until 06:30 (18.5 h), known
    # 06:30-07:30 (active), unknown 07:30-10:30, known 10:30-12:00 (inactive; the polls
    # at 11:00 and 12:00 are exactly G apart).
    assert in_units(ticks.uptime)[1] == 1  # 06:30-07:30
    assert in_units(ticks.unknown)[1] == 18.5 + 3
    assert in_units(ticks.downtime)[1] == 1.5  # 10:30-12:00


@pytest.mark.parametrize(("over_us", "unknown_ticks"), [(0, 0), (1, 2), (MINUTE_US, 2 * MINUTE_US)])
def test_only_a_gap_over_g_leaves_unknown_time(over_us: int, unknown_ticks: int) -> None:
    """A gap of exactly G leaves nothing unknown (G/2 away is known); each microsecond more does."""
    # Polls every 20 minutes until 40 minutes before now, then one 30 minutes (+ over) later.
    as_of = utc(2024, 1, 9, 12)
    last_regular = as_of - dt.timedelta(minutes=40, microseconds=over_us)
    polls = [
        *((last_regular - dt.timedelta(minutes=20 * k), True) for k in range(12, -1, -1)),
        (as_of - dt.timedelta(minutes=10), False),
    ]
    ticks = store_ticks([], polls, as_of, zone_key="UTC", max_gap_us=30 * MINUTE_US)
    assert ticks.unknown[2] == unknown_ticks
    # The unknown stretch ends 25 minutes before now, so the midpoint flip inside it (or
    # on its single instant) leaves the store down for 25 minutes and up for the rest.
    assert ticks.downtime[2] == 2 * 25 * MINUTE_US
    assert ticks.uptime[2] == 2 * 35 * MINUTE_US - unknown_ticks


def test_an_odd_g_puts_g_half_on_a_half_microsecond_exactly() -> None:
    """G = 7 microseconds, polls 10 apart: unknown from +3.5 to +6.5, 3 microseconds, exact."""
    # Ticks: the polls are 200 and 220, G/2 is 7 ticks; now is 115 microseconds (230).
    timeline = status_timeline([100, 110], [True, True], 115, 7)
    assert timeline == StatusTimeline(
        True, (), ((BEFORE_ALL_TICKS, 193), (207, 213), (227, AFTER_ALL_TICKS))
    )
    ticks = summarise_ticks(((180, 230),), timeline, 230)
    # Unknown 180-193, 207-213 and 227-230 of the business span 180-230, in every window.
    assert ticks.unknown == (13 + 6 + 3,) * 3
    assert ticks.uptime == (50 - 22,) * 3


@pytest.mark.parametrize(("late_us", "unknown_ticks"), [(0, 0), (1, 2), (MINUTE_US, 2 * MINUTE_US)])
def test_after_the_last_poll_more_than_g_half_is_unknown(late_us: int, unknown_ticks: int) -> None:
    """The last poll exactly G/2 before now leaves nothing unknown; each microsecond more counts."""
    as_of = utc(2024, 1, 9, 12)
    last = as_of - dt.timedelta(hours=1, microseconds=late_us)
    polls = [*hourly(utc(2024, 1, 1), as_of - dt.timedelta(hours=2)), (last, True)]
    ticks = store_ticks([], polls, as_of, zone_key="UTC", max_gap_us=TWO_HOURS_US)
    assert ticks.unknown == (unknown_ticks, unknown_ticks, unknown_ticks)


@pytest.mark.parametrize(("early_us", "unknown_ticks"), [(0, 0), (1, 2)])
def test_before_the_first_poll_more_than_g_half_is_unknown(
    early_us: int, unknown_ticks: int
) -> None:
    """The first poll exactly G/2 after the hour's start leaves nothing of the hour unknown."""
    as_of = utc(2024, 1, 9, 12)
    first = as_of - dt.timedelta(minutes=30, microseconds=-early_us)
    ticks = store_ticks([], [(first, True)], as_of, zone_key="UTC", max_gap_us=HOUR_US)
    assert ticks.unknown[2] == unknown_ticks
    assert ticks.uptime[2] == 2 * HOUR_US - unknown_ticks
    # The day is unknown up to 30 minutes before the first poll: 23 hours (and the extra).
    assert ticks.unknown[1] == 2 * 23 * HOUR_US + unknown_ticks


def test_unknown_time_outside_business_hours_is_not_counted() -> None:
    """A night-time hole in the polls of a 09:00-17:00 store adds no unknown time."""
    # Tuesday 9 January 2024 in Chicago: polls hourly 07:00-18:00 CST on Monday and Tuesday.
    as_of = utc(2024, 1, 10)  # Tuesday 18:00 CST
    polls = [
        *hourly(utc(2024, 1, 8, 13), utc(2024, 1, 9, 0)),
        *hourly(utc(2024, 1, 9, 13), utc(2024, 1, 10, 0)),
    ]
    ticks = store_ticks([(1, "09:00:00", "17:00:00")], polls, as_of, max_gap_us=TWO_HOURS_US)
    assert in_units(ticks.unknown)[1] == 0
    assert in_units(ticks.uptime)[1] == 8


def test_without_a_maximum_gap_nothing_is_unknown() -> None:
    """With no maximum gap, status_timeline is status_changes and nothing is unknown."""
    times, actives = [0, 10**12, 3 * 10**12], [True, False, True]
    assert status_timeline(times, actives, 3 * 10**12) == status_changes(times, actives, 3 * 10**12)
    as_of = utc(2024, 1, 9, 18)
    ticks = store_ticks([], hourly(utc(2024, 1, 1), utc(2024, 1, 9, 8)), as_of, zone_key="UTC")
    assert ticks.unknown == (0, 0, 0)


def test_polls_after_now_close_no_gap() -> None:
    """A poll after now does not exist yet: the time after the last poll by now stays unknown."""
    times = [0, 10 * HOUR_US]
    timeline = status_timeline(times, [True, True], 5 * HOUR_US, HOUR_US)
    assert timeline is not None
    assert timeline.unknown == ((BEFORE_ALL_TICKS, -HOUR_US), (HOUR_US, AFTER_ALL_TICKS))


def test_the_maximum_gap_must_be_positive() -> None:
    """A maximum gap of zero or less is refused."""
    for max_gap_us in (0, -1):
        with pytest.raises(DataError, match="positive"):
            status_timeline([0, 1], [True, True], 1, max_gap_us)


def test_kept_polls_with_gaps_keep_both_ends_of_every_gap() -> None:
    """Both polls of a gap stay, with their position, besides the polls kept_polls keeps."""
    hour = HOUR_US
    times = [0, hour, 2 * hour, 10 * hour, 11 * hour, 12 * hour, 13 * hour]
    kept = kept_polls_with_gaps("1111111", times, 2 * hour)
    assert kept.indices == (0, 2, 3, 6)
    assert kept.gap_after == (1,)
    changes = kept_polls_with_gaps("1110011", times, 2 * hour)
    assert changes.indices == (0, 2, 3, 4, 5, 6)
    assert changes.gap_after == (1,)
    assert kept_polls_with_gaps("1111111", times, 8 * hour).gap_after == ()
    assert kept_polls_with_gaps("1111111", times, 8 * hour).indices == (0, 6)


def test_thinned_polls_without_their_gap_positions_are_refused_when_wrong() -> None:
    """A gap position whose two polls are not further apart than G is refused."""
    with pytest.raises(DataError, match="not a gap"):
        status_timeline([0, HOUR_US, 2 * HOUR_US], [True] * 3, 2 * HOUR_US, HOUR_US, gap_after=[0])
    with pytest.raises(ValueError, match="statuses"):
        kept_polls_with_gaps("11", [0], HOUR_US)
