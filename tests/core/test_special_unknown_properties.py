"""
Properties of special days and unknown time, checked against the brute-force reference and
against the engine without them.

Inputs come from ``tests.strategies``: zones with a DST change inside the week, special rows
of every shape on the dates around the window (DST days among them), random polls or hourly
polls with holes, and maximum gaps from one microsecond (odd ones too) to a month.
"""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, note
from hypothesis import strategies as st

from storemon import DEFAULT_ZONE_KEY, compute_report
from storemon.interval import difference, normalise
from storemon.localtime import (
    Schedule,
    business_spans,
    schedule_spans,
    weekly_pattern,
    window_dates,
    zone_for,
)
from storemon.model import WEEK_US
from storemon.uptime import (
    TICKS_PER_US,
    kept_polls_with_gaps,
    status_timeline,
    summarise_ticks,
    window_business_ticks,
)
from tests.core.support import (
    engine_ticks,
    epoch_us,
    hours_row,
    row_seconds,
    snapshot_of,
    special_rows,
    ticks_seconds,
    week_business_us,
)
from tests.reference import reference_store
from tests.strategies import (
    StoreCase,
    max_gaps,
    special_dates,
    special_store_cases,
    store_cases,
    weekly_hours,
    zone_and_as_of,
)

#: The windows of ``UptimeTicks`` (longest first) by the reference's names.
WINDOWS = ("week", "day", "hour")


@given(case=special_store_cases(), max_gap_us=st.one_of(st.none(), max_gaps()))
def test_engine_matches_reference_with_special_days_and_gaps(
    case: StoreCase, max_gap_us: int | None
) -> None:
    """With special rows and a maximum gap, the engine equals the reference within its bound."""
    ticks = engine_ticks(case, max_gap_us)
    expected = reference_store(
        case.polls,
        case.hours,
        case.zone_key,
        case.as_of,
        special=case.special,
        max_gap_us=max_gap_us,
    )
    if expected is None:
        assert ticks is None
        return
    assert ticks is not None
    for index, window in enumerate(WINDOWS):
        result = expected[window]
        up = ticks_seconds(ticks.uptime[index])
        down = ticks_seconds(ticks.downtime[index])
        unknown = ticks_seconds(ticks.unknown[index])
        note(f"{window}: engine up={up}s down={down}s unknown={unknown}s; reference {result}")
        assert abs(up - result.uptime_s) <= result.tolerance_s
        assert abs(down - result.downtime_s) <= result.tolerance_s
        assert abs(unknown - result.unknown_s) <= result.tolerance_s
        assert abs(up + down + unknown - result.business_s) <= result.business_tolerance_s
        if max_gap_us is None:
            assert unknown == 0


@given(case=special_store_cases(aligned=True), max_gap_us=max_gaps())
def test_uptime_downtime_and_unknown_add_up_to_business_time(
    case: StoreCase, max_gap_us: int
) -> None:
    """Uptime + downtime + unknown is the business time, the reference's (exactly on minutes)."""
    ticks = engine_ticks(case, max_gap_us)
    business = tuple(
        (start * TICKS_PER_US, end * TICKS_PER_US)
        for start, end in week_business_us(case.zone_key, case.hours, case.special, case.as_of)
    )
    totals = window_business_ticks(business, epoch_us(case.as_of) * TICKS_PER_US)
    if ticks is None:
        assert all(at > case.as_of for at, _ in case.polls)
        return
    expected = reference_store(
        [(case.as_of, True)],
        case.hours,
        case.zone_key,
        case.as_of,
        special=case.special,
        steps={"hour": 60, "day": 60},
    )
    assert expected is not None
    for index, window in enumerate(WINDOWS):
        assert ticks.uptime[index] + ticks.downtime[index] + ticks.unknown[index] == totals[index]
        assert min(ticks.uptime[index], ticks.downtime[index], ticks.unknown[index]) >= 0
        result = expected[window]
        # Exact (tolerance 0) unless a row ends off the minute grid, as 23:58:59 does.
        assert abs(ticks_seconds(totals[index]) - result.business_s) <= (
            result.business_tolerance_s
        )


@given(case=special_store_cases(), extra_us=st.integers(1, 10**12))
def test_a_gap_longer_than_every_hole_changes_nothing(case: StoreCase, extra_us: int) -> None:
    """A maximum gap over twice every distance to a poll gives exactly the numbers without one."""
    snapshot = snapshot_of(case)
    now_us = epoch_us(case.as_of)
    times = [at for at in snapshot.poll_at_us if at <= now_us]
    if not times:
        return
    # Every instant of the week window is then within G/2 of a poll.
    steps = [later - earlier for earlier, later in itertools.pairwise(times)]
    farthest = max([*steps, times[0] - (now_us - WEEK_US), now_us - times[-1], 0])
    with_gap = engine_ticks(case, 2 * farthest + extra_us)
    without = engine_ticks(case)
    assert with_gap is not None
    assert with_gap == without
    assert with_gap.unknown == (0, 0, 0)


@given(case=special_store_cases(), gaps=st.tuples(max_gaps(), max_gaps()))
def test_a_longer_maximum_gap_never_adds_unknown_time(
    case: StoreCase, gaps: tuple[int, int]
) -> None:
    """Unknown time shrinks (or stays) as the maximum gap grows, in every window."""
    shorter, longer = sorted(gaps)
    short_ticks = engine_ticks(case, shorter)
    long_ticks = engine_ticks(case, longer)
    if short_ticks is None:
        assert long_ticks is None
        return
    assert long_ticks is not None
    for index in range(3):
        assert long_ticks.unknown[index] <= short_ticks.unknown[index]


@given(case=store_cases(), data=st.data())
def test_special_rows_equal_to_the_weekly_rows_change_nothing(
    case: StoreCase, data: st.DataObject
) -> None:
    """Special rows copying the weekly rows of their date give exactly the same business spans."""
    dates = data.draw(st.lists(special_dates(case.as_of), min_size=1, max_size=4, unique=True))
    copies = []
    for date in dates:
        weekday = dt.date.fromisoformat(date).weekday()
        if case.hours:
            copies += [(date, start, end) for day, start, end in case.hours if day == weekday]
            if not any(day == weekday for day, _, _ in case.hours):
                copies.append((date, "", ""))  # no weekly rows that day: closed
        else:
            copies.append((date, "00:00:00", "24:00:00"))  # open all the time: all day
    plain = week_business_us(case.zone_key, case.hours, [], case.as_of)
    assert week_business_us(case.zone_key, case.hours, copies, case.as_of) == plain


@given(case=special_store_cases(), data=st.data())
def test_a_closed_special_date_removes_exactly_that_dates_business_time(
    case: StoreCase, data: st.DataObject
) -> None:
    """Closing date D removes the intervals that start on D and nothing else."""
    zone = zone_for(case.zone_key or DEFAULT_ZONE_KEY)
    now_us = epoch_us(case.as_of)
    dates = window_dates(zone, now_us - WEEK_US, now_us)
    assert dates is not None
    first, last = dates
    closed = data.draw(st.dates(min_value=first, max_value=last).map(lambda date: date.isoformat()))
    # The other special rows, and D itself left to its weekly rows.
    others = [row for row in case.special if row[0] != closed]
    weekly_on_closed = (
        [(closed, start, end) for day, start, end in case.hours if day == _weekday(closed)]
        if case.hours
        else [(closed, "00:00:00", "24:00:00")]
    ) or [(closed, "", "")]
    # Only D's intervals: every other date of the window closed.
    every_date = [
        (first + dt.timedelta(days=offset)).isoformat() for offset in range((last - first).days + 1)
    ]
    only_closed_date = [(date, "", "") for date in every_date if date != closed] + weekly_on_closed

    before = normalise(week_business_us(case.zone_key, case.hours, others, case.as_of))
    after = normalise(
        week_business_us(case.zone_key, case.hours, [*others, (closed, "", "")], case.as_of)
    )
    date_only = normalise(week_business_us(case.zone_key, case.hours, only_closed_date, case.as_of))
    note(f"closed {closed}: before {before}, after {after}, that date's intervals {date_only}")
    assert normalise(after + date_only) == before
    removed = tuple(difference(before, after))
    assert removed == tuple(difference(date_only, after))
    assert _length(before) - _length(after) == _length(removed)


def _length(spans: tuple[tuple[int, int], ...]) -> int:
    return sum(end - start for start, end in spans)


def _weekday(date: str) -> int:
    return dt.date.fromisoformat(date).weekday()


@given(
    zone_and_now=zone_and_as_of(),
    hours=weekly_hours(),
    length_us=st.integers(1, 2 * WEEK_US),
)
def test_schedules_without_special_days_give_the_weekly_pattern_spans(
    zone_and_now: tuple[str | None, dt.datetime], hours: list[tuple[int, str, str]], length_us: int
) -> None:
    """Without special rows, a Schedule's spans are exactly the weekly pattern's spans."""
    zone_key, now = zone_and_now
    zone = zone_for(zone_key or DEFAULT_ZONE_KEY)
    rows = [hours_row(*row) for row in hours]
    now_us = epoch_us(now)
    assert schedule_spans(zone, Schedule.of(rows), now_us - length_us, now_us) == business_spans(
        zone, weekly_pattern(rows), now_us - length_us, now_us
    )


@given(case=special_store_cases())
def test_special_rows_outside_the_window_dates_change_nothing(case: StoreCase) -> None:
    """Filtering the special rows to the window's dates keeps the business spans exactly."""
    zone = zone_for(case.zone_key or DEFAULT_ZONE_KEY)
    now_us = epoch_us(case.as_of)
    rows = [hours_row(*row) for row in case.hours]
    every_row = Schedule.of(rows, special_rows(case.special))
    # week_business_us keeps only the rows whose dates window_dates names.
    assert schedule_spans(zone, every_row, now_us - WEEK_US, now_us) == week_business_us(
        case.zone_key, case.hours, case.special, case.as_of
    )


@given(case=special_store_cases(), max_gap_us=max_gaps())
def test_thinned_polls_with_gaps_give_the_same_numbers(case: StoreCase, max_gap_us: int) -> None:
    """Polls kept by kept_polls_with_gaps, with its gap positions, give the same timeline."""
    snapshot = snapshot_of(case)
    now_us = epoch_us(case.as_of)
    count = sum(1 for at in snapshot.poll_at_us if at <= now_us)
    if count == 0:
        return
    times = list(snapshot.poll_at_us[:count])
    actives = list(snapshot.poll_active[:count])
    kept = kept_polls_with_gaps(
        "".join("1" if active else "0" for active in actives), times, max_gap_us
    )
    assert list(kept.indices) == sorted(set(kept.indices))
    assert kept.indices[0] == 0
    assert kept.indices[-1] == count - 1
    full = status_timeline(times, actives, now_us, max_gap_us)
    thinned = status_timeline(
        [times[index] for index in kept.indices],
        [actives[index] for index in kept.indices],
        now_us,
        max_gap_us,
        gap_after=kept.gap_after,
    )
    assert thinned == full
    assert full is not None
    business = ((2 * (now_us - WEEK_US), 2 * now_us),)
    assert summarise_ticks(business, thinned, 2 * now_us) == summarise_ticks(
        business, full, 2 * now_us
    )


@given(case=store_cases())
def test_without_special_rows_or_a_gap_the_numbers_are_the_reports(case: StoreCase) -> None:
    """Without special rows and a maximum gap the ticks are exactly compute_report's numbers."""
    ticks = engine_ticks(case)
    rows = compute_report([snapshot_of(case)], as_of=case.as_of).rows
    if ticks is None:
        assert rows == ()
        return
    (row,) = rows
    seconds = row_seconds(row)
    for index, window in enumerate(WINDOWS):
        up, down = seconds[window]
        assert (ticks_seconds(ticks.uptime[index]), ticks_seconds(ticks.downtime[index])) == (
            up,
            down,
        )
    assert ticks.unknown == (0, 0, 0)
