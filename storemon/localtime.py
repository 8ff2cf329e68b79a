"""
Business hours on the local wall clock, turned into UTC spans: the only home of the DST
policy.

The rule (SEMANTICS.md, "Business time"): an instant is business time when the store's
local wall clock at that instant shows a weekday and time inside one of its rows. There is
no guessing about folds or gaps. To compute it exactly:

1. split the UTC window into pieces over which the zone's UTC offset is constant;
2. shift each piece by its offset onto the local wall-clock line;
3. intersect it there with the weekly pattern, repeated week after week;
4. shift the intersection back by the same offset.

A wall-clock hour that the clock skips lies in no piece, so it is never business time; an
hour that the clock shows twice lies in two pieces, so it counts twice. Durations are
always measured on the UTC line: subtracting local times would get DST days wrong.

All instants here are integers: microseconds since the Unix epoch. A "local instant" is
the wall-clock reading written as if it were UTC, also in microseconds since the epoch.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterable, Sequence

from storemon.errors import DataError
from storemon.interval import Span, normalise
from storemon.model import DAY_US, SECOND_US, WEEK_US, HoursRow

#: The last minute of a day: a same-day row ending at or after it ends at midnight.
END_OF_DAY_FROM_US = (23 * 60 + 59) * 60 * SECOND_US

#: The Unix epoch, 1970-01-01, was a Thursday: three days after the Monday that starts its
#: week. Adding this to a local instant puts Monday 00:00 at a multiple of ``WEEK_US``.
_EPOCH_WEEKDAY_SHIFT_US = 3 * DAY_US

#: Offsets are sampled this often when looking for transitions. Transitions then are found
#: exactly by bisection; two transitions less than this apart that cancel each other would
#: go unseen, and no zone in the tz database has such a pair.
_TRANSITION_PROBE_S = 15 * 60

#: A pattern that covers the whole week: a store without business-hours rows.
ALWAYS_OPEN: tuple[Span, ...] = ((0, WEEK_US),)


@functools.lru_cache(maxsize=512)
def zone_for(zone_key: str) -> zoneinfo.ZoneInfo:
    """
    Return the ``ZoneInfo`` for an IANA key, or raise ``DataError`` naming the key.
    """
    try:
        return zoneinfo.ZoneInfo(zone_key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise DataError(f"unknown time zone {zone_key!r}") from error


def is_known_zone(zone_key: str) -> bool:
    """
    Tell whether ``zone_key`` names a zone in the tz database.
    """
    try:
        zone_for(zone_key)
    except DataError:
        return False
    return True


def weekly_pattern(rows: Iterable[HoursRow]) -> tuple[Span, ...]:
    """
    Return the business time of weekly rows as spans of a week starting Monday 00:00 local.

    No rows means open all the time (SEMANTICS.md, "Defaults"). A row whose end is not
    after its start runs into the next day (``start == end`` covers 24 hours); a row that
    runs past Sunday midnight wraps to Monday. A same-day end of 23:59:00 or later is
    midnight. Overlapping rows merge.
    """
    rows = list(rows)
    if not rows:
        return ALWAYS_OPEN
    spans: list[Span] = []
    for row in rows:
        day_start = row.day * DAY_US
        start, end = row.start_us, row.end_us
        if end > start:
            if end >= END_OF_DAY_FROM_US:
                end = DAY_US
        else:
            end += DAY_US
        spans.append((day_start + start, day_start + end))
    wrapped: list[Span] = []
    for start, end in spans:
        if end > WEEK_US:
            wrapped.append((start, WEEK_US))
            wrapped.append((0, end - WEEK_US))
        else:
            wrapped.append((start, end))
    return normalise(wrapped)


def _offset_s(zone: dt.tzinfo, second: int) -> int:
    """
    The zone's UTC offset, in whole seconds, at an instant given in seconds since the epoch.
    """
    offset = dt.datetime.fromtimestamp(second, zone).utcoffset()
    assert offset is not None
    # Offsets in the tz database are whole seconds; keep the rare sub-second part anyway.
    return offset.days * 86_400 + offset.seconds


@functools.lru_cache(maxsize=1024)
def offset_pieces(zone: dt.tzinfo, lo_us: int, hi_us: int) -> tuple[tuple[int, int, int], ...]:
    """
    Split ``[lo_us, hi_us)`` into pieces of constant UTC offset.

    Returns ``(start_us, end_us, offset_us)`` triples covering the span in order. Zone
    transitions fall on whole seconds, so the offset is constant over each second. Cached:
    a report asks for the same window of each zone once per distinct hours.
    """
    if lo_us >= hi_us:
        return ()
    first_s = lo_us // SECOND_US
    last_s = (hi_us - 1) // SECOND_US
    pieces: list[tuple[int, int, int]] = []
    piece_start_us = lo_us
    current = _offset_s(zone, first_s)
    probe_lo = first_s
    while probe_lo < last_s:
        probe_hi = min(probe_lo + _TRANSITION_PROBE_S, last_s)
        offset_hi = _offset_s(zone, probe_hi)
        if offset_hi != current:
            # Bisect for the first second with the new offset.
            low, high = probe_lo, probe_hi
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_s(zone, middle) == current:
                    low = middle
                else:
                    high = middle
            change_us = high * SECOND_US
            pieces.append((piece_start_us, change_us, current * SECOND_US))
            piece_start_us = change_us
            current = _offset_s(zone, high)
            probe_lo = high
            continue
        probe_lo = probe_hi
    pieces.append((piece_start_us, hi_us, current * SECOND_US))
    return tuple(pieces)


def business_spans(
    zone: dt.tzinfo, pattern: Sequence[Span], lo_us: int, hi_us: int
) -> tuple[Span, ...]:
    """
    Return the business time inside ``[lo_us, hi_us)`` as sorted, disjoint UTC spans.

    ``pattern`` comes from ``weekly_pattern``. See the module docstring for the rule.
    """
    out: list[Span] = []
    for piece_lo, piece_hi, offset in offset_pieces(zone, lo_us, hi_us):
        local_lo, local_hi = piece_lo + offset, piece_hi + offset
        first_week = (local_lo + _EPOCH_WEEKDAY_SHIFT_US) // WEEK_US
        last_week = (local_hi - 1 + _EPOCH_WEEKDAY_SHIFT_US) // WEEK_US
        for week in range(first_week, last_week + 1):
            monday = week * WEEK_US - _EPOCH_WEEKDAY_SHIFT_US
            for start, end in pattern:
                start = max(monday + start, local_lo)
                end = min(monday + end, local_hi)
                if start < end:
                    out.append((start - offset, end - offset))
    # Pieces are disjoint on the UTC line, so only touching spans need merging.
    return normalise(out)
