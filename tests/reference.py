"""
An independent brute-force reference for the report numbers, written only from SEMANTICS.md.

It shares no code with storemon: it reads the wall clock with ``datetime.astimezone`` at
sample instants and applies the contract's rules literally, special days and the maximum
gap included. Nothing here is exact, so each result carries an error bound derived below.

**Sampling.** A window ``[lo, hi)`` of length ``L`` is cut into ``L / step`` cells
``[lo + k*step, lo + (k+1)*step)``; each cell is judged by its midpoint and counts ``step``
seconds. The window lengths (3600, 86400, 604800 s) are multiples of every step used.

**The rules at a sample.** The wall clock shows a local date ``d`` and a time ``c``. The
business time of date ``d`` is its *day-local* intervals: the parts before midnight of the
rows that start on ``d`` (the special rows of ``d`` if it is a special date, else the weekly
rows of its weekday; a store without weekly rows starts ``00:00 -> 24:00`` every date)
and the parts past midnight of the rows that start on ``d - 1`` (chosen the same way for
``d - 1``). The sample is business time when ``c`` lies in one of them. Its status is
unknown when the nearest poll is more than ``G/2`` away (``2 * distance > G`` in whole
microseconds: the sample and the polls are whole microseconds), else the nearest poll's.

**Error bound.** Let ``f`` be the indicator being measured (business, business and active,
business and inactive, business and unknown). On a cell where ``f`` is constant the sample
is exact. A cell that holds exactly one discontinuity of ``f`` is wrong by at most
``step / 2`` (the part between the discontinuity and the midpoint); a cell that holds
``k >= 2`` discontinuities is wrong by at most ``step <= k * step / 2``. So the total error
is at most ``step / 2`` times the number of discontinuities of ``f`` inside the window.
Each is a discontinuity of business time, of the interpolated status or of unknown time:

- business boundaries: with ``T`` offset changes inside the window there are ``T + 1``
  stretches of constant UTC offset, and the ``T`` jumps themselves. Within one stretch the
  local clock runs through a half-open stretch of at most one week. A boundary there lies
  in some local date ``m`` and is an end point of one of ``m``'s day-local intervals, or
  the midnight that ends ``m``. A date is *affected* when it or the date before it is a
  special date; any other date has the day-local intervals of its weekday (``by_day``),
  and a weekly end point recurs only once a week, so all unaffected dates together
  give at most ``E`` boundaries per stretch, where ``E`` is the number of interval end
  points of the weekly pattern (``E = 0`` without weekly rows: every unaffected date is
  then open all day, and its only possible boundaries are the midnights it shares with
  an affected date). An affected date ``m`` gives at most ``2 * |day-local(m)| + 2``
  (its intervals' end points and its two midnights); summed over the affected dates
  that can meet the window's wall clock, that is ``S``. Hence at most
  ``(T + 1) * (E + S) + T`` business boundaries;
- status changes: one at each midpoint of two consecutive polls with different statuses
  that falls inside the window;
- unknown boundaries (with a maximum gap ``G``): ``first - G/2``, ``last + G/2``, and
  ``a + G/2``, ``b - G/2`` for each two consecutive polls ``a < b`` further apart than
  ``G``, counted when inside the window.

``T`` is counted from the offsets seen at the window's two ends and at every sample, which
is sound as long as no zone changes its offset twice within one grid step (60 s at most
here; no zone in the tz database does). The wall clock of the window lies within
``[lo + smallest offset seen, hi + largest offset seen]``.

**Exact business time.** When the window starts on a whole minute, every hours row and
special row starts and ends on a whole minute and every offset seen is a whole number of
minutes, then the business indicator is constant on every cell (the zone's transitions
fall on whole minutes of local time, so on whole UTC minutes), and the sampled business
time is exact.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

#: SEMANTICS.md, "Defaults".
DEFAULT_ZONE = "America/Chicago"

#: The three windows of the report, with their lengths in seconds.
WINDOW_SECONDS = {"hour": 3_600, "day": 86_400, "week": 604_800}

#: Grid step per window in seconds; each divides 60 and its window's length.
DEFAULT_STEPS = {"hour": 1, "day": 10, "week": 60}

_US = 1_000_000
_DAY_US = 86_400 * _US
_END_OF_DAY_FROM_US = (23 * 3600 + 59 * 60) * _US
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_DAY = dt.timedelta(days=1)

Time = str | dt.time
HoursInput = tuple[int, Time, Time]
#: A special row: date (``YYYY-MM-DD`` or a ``date``), start, end; ``""`` or ``None`` times
#: for closed all that date.
SpecialInput = tuple[str | dt.date, Time | None, Time | None]
Interval = tuple[int, int]


@dataclass(frozen=True)
class WindowResult:
    """
    The reference's numbers for one window, in seconds, with their error bounds.
    """

    name: str
    step_s: int
    uptime_s: Fraction
    downtime_s: Fraction
    business_s: Fraction
    #: Bound on |reference - exact| for uptime, downtime and unknown.
    tolerance_s: Fraction
    #: Bound on |reference - exact| for business time (zero when exact).
    business_tolerance_s: Fraction
    offset_changes: int
    status_changes: int
    #: Zero without a maximum gap.
    unknown_s: Fraction = Fraction(0)
    unknown_changes: int = 0


def time_of_day_us(value: Time, *, end: bool = False) -> int:
    """
    Return microseconds since midnight of ``HH:MM:SS[.f]`` text or a ``time``.

    ``24:00:00`` is accepted as an end only, meaning midnight at the end of the day.
    """
    if isinstance(value, dt.time):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * _US + value.microsecond
    text = value.strip()
    clock, _, fraction = text.partition(".")
    parts = [int(part) for part in clock.split(":")]
    while len(parts) < 3:
        parts.append(0)
    hours, minutes, seconds = parts
    micros = int((fraction + "000000")[:6]) if fraction else 0
    total = ((hours * 60 + minutes) * 60 + seconds) * _US + micros
    if total > _DAY_US or (total == _DAY_US and not end):
        raise ValueError(f"not a time of day: {value!r}")
    return total


def row_parts(start_value: Time, end_value: Time) -> tuple[Interval, Interval | None]:
    """
    Split one row into its part on the date it starts and its part past midnight, if any.

    Applies SEMANTICS.md literally: a row whose end is not after its start runs into the
    next day (``start == end`` covers 24 hours); a same-day end of 23:59:00 or later is
    midnight.
    """
    start = time_of_day_us(start_value)
    end = time_of_day_us(end_value, end=True)
    if end > start:
        return (start, _DAY_US if end >= _END_OF_DAY_FROM_US else end), None
    return (start, _DAY_US), ((0, end) if end > 0 else None)


def day_intervals(rows: Sequence[HoursInput]) -> dict[int, list[Interval]]:
    """
    Turn weekly rows into per-weekday day-local ``[start, end)`` intervals (microseconds of
    the day): each row's own part on its weekday, its part past midnight on the next.
    """
    by_day: dict[int, list[Interval]] = {day: [] for day in range(7)}
    for day, start_value, end_value in rows:
        own, spill = row_parts(start_value, end_value)
        by_day[day].append(own)
        if spill is not None:
            by_day[(day + 1) % 7].append(spill)
    return by_day


@dataclass(frozen=True)
class StoreHours:
    """
    A store's weekly and special rows, split by the date on which each part lies.
    """

    #: Per weekday, the parts of that weekday's own rows; ``None`` without weekly rows.
    weekly_own: dict[int, list[Interval]] | None
    #: Per weekday, the parts past midnight of the rows of the weekday before.
    weekly_spill: dict[int, list[Interval]]
    #: Per special date, the parts of its own rows (empty: closed).
    special_own: dict[dt.date, list[Interval]]
    #: Per special date, the parts past midnight of its rows (they lie on the next date).
    special_spill: dict[dt.date, list[Interval]]


def _as_date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def store_hours(hours: Sequence[HoursInput], special: Sequence[SpecialInput] = ()) -> StoreHours:
    """
    Read weekly rows ``(day, start, end)`` and special rows ``(date, start, end)``.
    """
    weekly_own: dict[int, list[Interval]] | None = None
    weekly_spill: dict[int, list[Interval]] = {day: [] for day in range(7)}
    if hours:
        weekly_own = {day: [] for day in range(7)}
        for day, start_value, end_value in hours:
            own, spill = row_parts(start_value, end_value)
            weekly_own[day].append(own)
            if spill is not None:
                weekly_spill[(day + 1) % 7].append(spill)
    special_own: dict[dt.date, list[Interval]] = {}
    special_spill: dict[dt.date, list[Interval]] = {}
    for date_value, start_value, end_value in special:
        date = _as_date(date_value)
        own_parts = special_own.setdefault(date, [])
        spill_parts = special_spill.setdefault(date, [])
        if not start_value and not end_value:
            continue  # closed: the date is special and this row adds no time
        assert start_value, "a special row has both times or neither"
        assert end_value, "a special row has both times or neither"
        own, spill = row_parts(start_value, end_value)
        own_parts.append(own)
        if spill is not None:
            spill_parts.append(spill)
    return StoreHours(weekly_own, weekly_spill, special_own, special_spill)


def day_local(hours: StoreHours, date: dt.date) -> list[Interval]:
    """
    Return the business time of one local date as intervals of its day (see the docstring).
    """
    previous = date - _ONE_DAY
    if date in hours.special_own:
        own = hours.special_own[date]
    elif hours.weekly_own is None:
        own = [(0, _DAY_US)]
    else:
        own = hours.weekly_own[date.weekday()]
    if previous in hours.special_spill:
        spill = hours.special_spill[previous]
    else:
        spill = hours.weekly_spill[date.weekday()]
    return own + spill


def is_affected(hours: StoreHours, date: dt.date) -> bool:
    """
    Tell whether special rows decide any of a date's day-local intervals.
    """
    return date in hours.special_own or (date - _ONE_DAY) in hours.special_own


def to_us(value: dt.datetime) -> int:
    """
    Microseconds since the Unix epoch of an aware datetime.
    """
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def effective_polls(
    polls: Iterable[tuple[dt.datetime, bool]], as_of: dt.datetime
) -> tuple[list[int], list[bool]]:
    """
    Return one store's polls at or before ``as_of``, one per instant (later rows win), sorted.
    """
    by_instant: dict[int, bool] = {}
    limit = to_us(as_of)
    for at, active in polls:
        at_us = to_us(at)
        if at_us <= limit:
            by_instant[at_us] = active
    times = sorted(by_instant)
    return times, [by_instant[t] for t in times]


def nearest_poll(times: Sequence[int], at_us: int) -> int:
    """
    Return the index of the poll nearest to ``at_us`` (an exact tie picks the earlier).
    """
    index = bisect.bisect_left(times, at_us)
    if index == 0:
        return 0
    if index == len(times):
        return index - 1
    before, after = times[index - 1], times[index]
    return index - 1 if at_us - before <= after - at_us else index


def nearest_status(times: Sequence[int], actives: Sequence[bool], at_us: int) -> bool:
    """
    Return the status of the poll nearest to ``at_us`` (an exact tie picks the earlier).
    """
    return actives[nearest_poll(times, at_us)]


def _offset_us(moment: dt.datetime, zone: dt.tzinfo) -> int:
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    return (offset.days * 86_400 + offset.seconds) * _US + offset.microseconds


def _local_date(local_us: int) -> dt.date:
    """
    The calendar date of a wall-clock reading given as microseconds since 1970-01-01 00:00.
    """
    return dt.date(1970, 1, 1) + dt.timedelta(days=local_us // _DAY_US)


def _unknown_boundaries(times: Sequence[int], max_gap_us: int | None) -> list[Fraction]:
    """
    The instants (microseconds, possibly half) where unknown time starts or ends.
    """
    if max_gap_us is None:
        return []
    half = Fraction(max_gap_us, 2)
    points = [times[0] - half, times[-1] + half]
    for before, after in itertools.pairwise(times):
        if after - before > max_gap_us:
            points += [before + half, after - half]
    return points


def window_result(
    name: str,
    *,
    zone: dt.tzinfo,
    hours: StoreHours,
    times: Sequence[int],
    actives: Sequence[bool],
    as_of: dt.datetime,
    step_s: int,
    max_gap_us: int | None = None,
) -> WindowResult:
    """
    Sample one window ending at ``as_of`` and bound the error (see the module docstring).
    """
    length_s = WINDOW_SECONDS[name]
    assert length_s % step_s == 0
    step_us = step_s * _US
    lo = as_of - dt.timedelta(seconds=length_s)
    lo_us = to_us(lo)
    hi_us = to_us(as_of)
    business_cells = up_cells = down_cells = unknown_cells = 0
    offsets_seen: set[int] = set()
    offset_changes = 0
    previous_offset = _offset_us(lo, zone)
    offsets_seen.add(previous_offset)
    days: dict[dt.date, list[Interval]] = {}
    for cell in range(length_s // step_s):
        # The midpoint of the cell; step_us is even, so this is exact.
        middle = lo + dt.timedelta(microseconds=cell * step_us + step_us // 2)
        local = middle.astimezone(zone)
        offset = _offset_us(middle, zone)
        if offset != previous_offset:
            offset_changes += 1
            previous_offset = offset
            offsets_seen.add(offset)
        clock_us = ((local.hour * 60 + local.minute) * 60 + local.second) * _US + local.microsecond
        date = local.date()
        if date not in days:
            days[date] = day_local(hours, date)
        if not any(start <= clock_us < end for start, end in days[date]):
            continue
        business_cells += 1
        middle_us = lo_us + cell * step_us + step_us // 2
        nearest = nearest_poll(times, middle_us)
        if max_gap_us is not None and 2 * abs(middle_us - times[nearest]) > max_gap_us:
            unknown_cells += 1
        elif actives[nearest]:
            up_cells += 1
        else:
            down_cells += 1
    last_offset = _offset_us(as_of - dt.timedelta(microseconds=1), zone)
    if last_offset != previous_offset:
        offset_changes += 1
        offsets_seen.add(last_offset)

    # The dates whose day-local end points can lie on the window's wall clock.
    first_day = _local_date(lo_us + min(offsets_seen)) - _ONE_DAY
    last_day = _local_date(hi_us + max(offsets_seen))
    affected = [
        first_day + index * _ONE_DAY
        for index in range((last_day - first_day).days + 1)
        if is_affected(hours, first_day + index * _ONE_DAY)
    ]
    weekly_end_points = (
        0
        if hours.weekly_own is None
        else 2 * sum(len(hours.weekly_own[d]) + len(hours.weekly_spill[d]) for d in range(7))
    )
    special_end_points = sum(2 * len(day_local(hours, date)) + 2 for date in affected)
    business_boundaries = (offset_changes + 1) * (
        weekly_end_points + special_end_points
    ) + offset_changes
    flips = sum(
        1
        for index in range(1, len(times))
        if actives[index] != actives[index - 1]
        and 2 * lo_us <= times[index] + times[index - 1] <= 2 * hi_us
    )
    unknown_changes = sum(
        1 for point in _unknown_boundaries(times, max_gap_us) if lo_us <= point <= hi_us
    )
    half_step = Fraction(step_s, 2)
    all_parts = [
        *(part for parts in (hours.weekly_own or {}).values() for part in parts),
        *(part for parts in hours.weekly_spill.values() for part in parts),
        *(part for parts in hours.special_own.values() for part in parts),
        *(part for parts in hours.special_spill.values() for part in parts),
    ]
    exact_business = (
        lo_us % (60 * _US) == 0
        and all(offset % (60 * _US) == 0 for offset in offsets_seen)
        and all(point % (60 * _US) == 0 for part in all_parts for point in part)
    )
    return WindowResult(
        name=name,
        step_s=step_s,
        uptime_s=Fraction(up_cells * step_s),
        downtime_s=Fraction(down_cells * step_s),
        business_s=Fraction(business_cells * step_s),
        tolerance_s=half_step * (business_boundaries + flips + unknown_changes),
        business_tolerance_s=Fraction(0) if exact_business else half_step * business_boundaries,
        offset_changes=offset_changes,
        status_changes=flips,
        unknown_s=Fraction(unknown_cells * step_s),
        unknown_changes=unknown_changes,
    )


def reference_store(
    polls: Iterable[tuple[dt.datetime, bool]],
    hours: Sequence[HoursInput],
    zone_key: str | None,
    as_of: dt.datetime,
    *,
    steps: dict[str, int] | None = None,
    special: Sequence[SpecialInput] = (),
    max_gap_us: int | None = None,
) -> dict[str, WindowResult] | None:
    """
    Return one store's numbers per window (``hour``, ``day``, ``week``), or ``None``.

    ``None`` means the store has no poll at or before ``as_of`` and so no report row.
    ``polls`` are ``(aware instant, active)`` in ingestion order; ``hours`` are
    ``(day, start, end)`` rows; ``zone_key`` ``None`` means the default zone; ``special``
    are ``(date, start, end)`` rows; ``max_gap_us`` is the maximum gap ``G`` in
    microseconds (``None``: nothing is unknown).
    """
    times, actives = effective_polls(polls, as_of)
    if not times:
        return None
    zone = zoneinfo.ZoneInfo(zone_key or DEFAULT_ZONE)
    chosen = {**DEFAULT_STEPS, **(steps or {})}
    return {
        name: window_result(
            name,
            zone=zone,
            hours=store_hours(hours, special),
            times=times,
            actives=actives,
            as_of=as_of,
            step_s=chosen[name],
            max_gap_us=max_gap_us,
        )
        for name in WINDOW_SECONDS
    }


def reference_report(
    polls: Iterable[tuple[str, dt.datetime, bool]],
    hours: Iterable[tuple[str, int, Time, Time]],
    zones: dict[str, str],
    as_of: dt.datetime,
    *,
    steps: dict[str, int] | None = None,
    special: Iterable[tuple[str, str | dt.date, Time | None, Time | None]] = (),
    max_gap_us: int | None = None,
) -> dict[str, dict[str, WindowResult]]:
    """
    Return the reference numbers of every store with a poll at or before ``as_of``.
    """
    polls_by_store: dict[str, list[tuple[dt.datetime, bool]]] = {}
    for store_id, at, active in polls:
        polls_by_store.setdefault(store_id, []).append((at, active))
    hours_by_store: dict[str, list[HoursInput]] = {}
    for store_id, day, start, end in hours:
        hours_by_store.setdefault(store_id, []).append((day, start, end))
    special_by_store: dict[str, list[SpecialInput]] = {}
    for store_id, date, start, end in special:
        special_by_store.setdefault(store_id, []).append((date, start, end))
    out: dict[str, dict[str, WindowResult]] = {}
    for store_id, store_polls in polls_by_store.items():
        result = reference_store(
            store_polls,
            hours_by_store.get(store_id, []),
            zones.get(store_id),
            as_of,
            steps=steps,
            special=special_by_store.get(store_id, []),
            max_gap_us=max_gap_us,
        )
        if result is not None:
            out[store_id] = result
    return out
