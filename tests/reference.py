"""
An independent brute-force reference for the report numbers, written only from SEMANTICS.md.

It shares no code with storemon: it reads the wall clock with ``datetime.astimezone`` at
sample instants and applies the contract's rules literally. Nothing here is exact, so each
result carries an error bound derived below.

**Sampling.** A window ``[lo, hi)`` of length ``L`` is cut into ``L / step`` cells
``[lo + k*step, lo + (k+1)*step)``; each cell is judged by its midpoint and counts ``step``
seconds. The window lengths (3600, 86400, 604800 s) are multiples of every step used.

**Error bound.** Let ``f`` be the indicator being measured (business, business and active,
business and inactive). On a cell where ``f`` is constant the sample is exact. A cell that
holds exactly one discontinuity of ``f`` is wrong by at most ``step / 2`` (the part between
the discontinuity and the midpoint); a cell that holds ``k >= 2`` discontinuities is wrong
by at most ``step <= k * step / 2``. So the total error is at most ``step / 2`` times the
number of discontinuities of ``f`` inside the window. They are:

- business boundaries: within one stretch of constant UTC offset, the local clock runs
  through a half-open stretch of at most one week, so it crosses each boundary point of the
  weekly pattern at most once. With ``T`` offset changes inside the window there are
  ``T + 1`` stretches, hence at most ``(T + 1) * E + T`` business boundaries, where ``E`` is
  the number of interval end points of the weekly pattern (and the ``T`` jumps themselves);
- status changes: one at each midpoint of two consecutive polls with different statuses
  that falls inside the window.

``T`` is counted from the offsets seen at the window's two ends and at every sample, which
is sound as long as no zone changes its offset twice within one grid step (60 s at most
here; no zone in the tz database does).

**Exact business time.** When the window starts on a whole minute, every hours row starts
and ends on a whole minute and every offset seen is a whole number of minutes, then the
business indicator is constant on every cell (the zone's transitions fall on whole minutes
of local time, so on whole UTC minutes), and the sampled business time is exact.
"""

from __future__ import annotations

import bisect
import datetime as dt
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

Time = str | dt.time
HoursInput = tuple[int, Time, Time]


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
    #: Bound on |reference - exact| for uptime and for downtime.
    tolerance_s: Fraction
    #: Bound on |reference - exact| for business time (zero when exact).
    business_tolerance_s: Fraction
    offset_changes: int
    status_changes: int


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


def day_intervals(rows: Sequence[HoursInput]) -> dict[int, list[tuple[int, int]]]:
    """
    Turn hours rows into per-weekday ``[start, end)`` intervals in microseconds of the day.

    Applies SEMANTICS.md literally: a row whose end is not after its start runs into the
    next day (``start == end`` covers 24 hours); a same-day end of 23:59:00 or later is
    midnight.
    """
    by_day: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
    for day, start_value, end_value in rows:
        start = time_of_day_us(start_value)
        end = time_of_day_us(end_value, end=True)
        if end > start:
            if end >= _END_OF_DAY_FROM_US:
                end = _DAY_US
            by_day[day].append((start, end))
        else:
            by_day[day].append((start, _DAY_US))
            if end > 0:
                by_day[(day + 1) % 7].append((0, end))
    return by_day


def is_business(
    by_day: dict[int, list[tuple[int, int]]] | None, weekday: int, clock_us: int
) -> bool:
    """
    Tell whether a wall-clock weekday and time is inside the hours (``None``: 24x7).
    """
    if by_day is None:
        return True
    return any(start <= clock_us < end for start, end in by_day[weekday])


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


def nearest_status(times: Sequence[int], actives: Sequence[bool], at_us: int) -> bool:
    """
    Return the status of the poll nearest to ``at_us`` (an exact tie picks the earlier).
    """
    index = bisect.bisect_left(times, at_us)
    if index == 0:
        return actives[0]
    if index == len(times):
        return actives[-1]
    before, after = times[index - 1], times[index]
    return actives[index - 1] if at_us - before <= after - at_us else actives[index]


def _offset_us(moment: dt.datetime, zone: dt.tzinfo) -> int:
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    return (offset.days * 86_400 + offset.seconds) * _US + offset.microseconds


def window_result(
    name: str,
    *,
    zone: dt.tzinfo,
    by_day: dict[int, list[tuple[int, int]]] | None,
    times: Sequence[int],
    actives: Sequence[bool],
    as_of: dt.datetime,
    step_s: int,
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
    business_cells = up_cells = down_cells = 0
    offsets_seen: set[int] = set()
    offset_changes = 0
    previous_offset = _offset_us(lo, zone)
    offsets_seen.add(previous_offset)
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
        if not is_business(by_day, local.weekday(), clock_us):
            continue
        business_cells += 1
        middle_us = lo_us + cell * step_us + step_us // 2
        if nearest_status(times, actives, middle_us):
            up_cells += 1
        else:
            down_cells += 1
    last_offset = _offset_us(as_of - dt.timedelta(microseconds=1), zone)
    if last_offset != previous_offset:
        offset_changes += 1
        offsets_seen.add(last_offset)

    end_points = 0 if by_day is None else 2 * sum(len(spans) for spans in by_day.values())
    business_boundaries = (offset_changes + 1) * end_points + offset_changes
    flips = sum(
        1
        for index in range(1, len(times))
        if actives[index] != actives[index - 1]
        and 2 * lo_us <= times[index] + times[index - 1] <= 2 * hi_us
    )
    half_step = Fraction(step_s, 2)
    exact_business = (
        lo_us % (60 * _US) == 0
        and all(offset % (60 * _US) == 0 for offset in offsets_seen)
        and (
            by_day is None
            or all(
                point % (60 * _US) == 0
                for spans in by_day.values()
                for span in spans
                for point in span
            )
        )
    )
    return WindowResult(
        name=name,
        step_s=step_s,
        uptime_s=Fraction(up_cells * step_s),
        downtime_s=Fraction(down_cells * step_s),
        business_s=Fraction(business_cells * step_s),
        tolerance_s=half_step * (business_boundaries + flips),
        business_tolerance_s=Fraction(0) if exact_business else half_step * business_boundaries,
        offset_changes=offset_changes,
        status_changes=flips,
    )


def reference_store(
    polls: Iterable[tuple[dt.datetime, bool]],
    hours: Sequence[HoursInput],
    zone_key: str | None,
    as_of: dt.datetime,
    *,
    steps: dict[str, int] | None = None,
) -> dict[str, WindowResult] | None:
    """
    Return one store's numbers per window (``hour``, ``day``, ``week``), or ``None``.

    ``None`` means the store has no poll at or before ``as_of`` and so no report row.
    ``polls`` are ``(aware instant, active)`` in ingestion order; ``hours`` are
    ``(day, start, end)`` rows; ``zone_key`` ``None`` means the default zone.
    """
    times, actives = effective_polls(polls, as_of)
    if not times:
        return None
    zone = zoneinfo.ZoneInfo(zone_key or DEFAULT_ZONE)
    by_day = day_intervals(hours) if hours else None
    chosen = {**DEFAULT_STEPS, **(steps or {})}
    return {
        name: window_result(
            name,
            zone=zone,
            by_day=by_day,
            times=times,
            actives=actives,
            as_of=as_of,
            step_s=chosen[name],
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
    out: dict[str, dict[str, WindowResult]] = {}
    for store_id, store_polls in polls_by_store.items():
        result = reference_store(
            store_polls, hours_by_store.get(store_id, []), zones.get(store_id), as_of, steps=steps
        )
        if result is not None:
            out[store_id] = result
    return out
