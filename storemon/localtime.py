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

Special days (SEMANTICS.md, "Special days") change only step 3. A ``Schedule`` holds the
store's hours as intervals by the local date on which they *start*: on a special date the
special rows' intervals start, otherwise the weekly rows of its weekday. Each interval runs
for its full length from that date, so an interval that started the day before still runs
into a special date, and a special row past midnight runs into the next date whatever that
date is. A store without weekly rows starts one 24-hour interval at every midnight, so
outside its special dates it is open all the time, and a special date's rows decide that
date alone.

All instants here are integers: microseconds since the Unix epoch. A "local instant" is
the wall-clock reading written as if it were UTC, also in microseconds since the epoch.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import zoneinfo
from collections.abc import Callable, Iterable, Sequence

import attrs

from storemon.errors import DataError
from storemon.interval import Span, normalise
from storemon.model import (
    DAY_US,
    SECOND_US,
    WEEK_US,
    HoursRow,
    SpecialHoursRow,
    special_hours_key,
)

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

#: The intervals that start on each date of a store without weekly rows: the whole day.
ALWAYS_OPEN_DAY: tuple[Span, ...] = ((0, DAY_US),)

#: The ordinal (``date.toordinal()``) of 1970-01-01, local day number 0.
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

#: 1970-01-01 was a Thursday: local day number ``n`` falls on weekday ``(n + 3) % 7``.
_EPOCH_WEEKDAY = 3


#: Names a host's tz database has besides IANA zones, whose meaning depends on the host:
#: its own zone, the POSIX rules file, and the ``posix/`` and ``right/`` copies (the latter
#: counting leap seconds).
_HOST_NAMES = ("localtime", "posixrules")
_HOST_PREFIXES = ("posix/", "right/")
#: In the tzdata list, but it means "no zone was set" (its abbreviation is ``-00``).
_UNSET_ZONE = "Factory"


@functools.cache
def known_zone_keys() -> frozenset[str]:
    """
    Return the IANA zone names storemon accepts: the list of zones of the bundled
    ``tzdata`` package, links such as ``US/Central`` included, ``Factory`` left out.

    One list whatever the host: a host's tz folder also answers ``localtime``,
    ``posixrules``, ``posix/...`` and ``right/...``, whose meaning changes from host to
    host, and ``zoneinfo.available_timezones()`` lists them there.
    """
    listed = importlib.resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(listed.split()) - {_UNSET_ZONE}


def _unknown_zone(zone_key: str) -> DataError:
    if zone_key in _HOST_NAMES or zone_key.startswith(_HOST_PREFIXES):
        return DataError(
            f"time zone {zone_key!r} is a file of the host's tz database, not an IANA zone "
            "name; give the zone itself, such as America/Chicago"
        )
    if zone_key == _UNSET_ZONE:
        return DataError(f"time zone {zone_key!r} means that no zone was set; give the zone")
    shown = zone_key if len(zone_key) <= 60 else zone_key[:60] + "..."
    return DataError(f"unknown time zone {shown!r}")


@functools.lru_cache(maxsize=512)
def zone_for(zone_key: str) -> zoneinfo.ZoneInfo:
    """
    Return the ``ZoneInfo`` for an IANA zone name (``known_zone_keys``), or raise
    ``DataError`` naming the key.
    """
    if zone_key not in known_zone_keys():
        raise _unknown_zone(zone_key)
    try:
        return zoneinfo.ZoneInfo(zone_key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise DataError(f"unknown time zone {zone_key!r}") from error


def row_interval(start_us: int, end_us: int) -> Span:
    """
    Return the interval of one hours row, as offsets from the local midnight of its date.

    An end not after the start runs past midnight (``start == end`` covers 24 hours); a
    same-day end of 23:59:00 or later is midnight. The interval ends before 48 hours.
    """
    if end_us > start_us:
        return (start_us, DAY_US if end_us >= END_OF_DAY_FROM_US else end_us)
    return (start_us, end_us + DAY_US)


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
        start, end = row_interval(row.start_us, row.end_us)
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


def _on_the_wall_clock(
    zone: dt.tzinfo,
    lo_us: int,
    hi_us: int,
    local_business: Callable[[int, int], Iterable[Span]],
) -> tuple[Span, ...]:
    """
    Map ``[lo_us, hi_us)`` to the wall clock piece by piece, take the business time there
    (``local_business(local_lo, local_hi)`` gives it, clipped to that range) and map it
    back: steps 1 to 4 of the module docstring.
    """
    out: list[Span] = []
    for piece_lo, piece_hi, offset in offset_pieces(zone, lo_us, hi_us):
        for start, end in local_business(piece_lo + offset, piece_hi + offset):
            out.append((start - offset, end - offset))
    # Pieces are disjoint on the UTC line, so only touching spans need merging.
    return normalise(out)


def business_spans(
    zone: dt.tzinfo, pattern: Sequence[Span], lo_us: int, hi_us: int
) -> tuple[Span, ...]:
    """
    Return the business time inside ``[lo_us, hi_us)`` as sorted, disjoint UTC spans.

    ``pattern`` comes from ``weekly_pattern``; weekly rows only, no special days (a
    ``Schedule`` and ``schedule_spans`` give the same spans for the same rows, and special
    days too). See the module docstring for the rule.
    """
    return _on_the_wall_clock(zone, lo_us, hi_us, functools.partial(_pattern_spans, pattern))


def _pattern_spans(pattern: Sequence[Span], local_lo: int, local_hi: int) -> list[Span]:
    """
    The weekly pattern, repeated week after week, inside ``[local_lo, local_hi)``.
    """
    out: list[Span] = []
    first_week = (local_lo + _EPOCH_WEEKDAY_SHIFT_US) // WEEK_US
    last_week = (local_hi - 1 + _EPOCH_WEEKDAY_SHIFT_US) // WEEK_US
    for week in range(first_week, last_week + 1):
        monday = week * WEEK_US - _EPOCH_WEEKDAY_SHIFT_US
        _add_clipped(out, pattern, monday, local_lo, local_hi)
    return out


def _add_clipped(
    out: list[Span], spans: Iterable[Span], shift: int, local_lo: int, local_hi: int
) -> None:
    """
    Append ``spans`` moved by ``shift`` and clipped to ``[local_lo, local_hi)`` to ``out``.
    """
    for start, end in spans:
        start = max(shift + start, local_lo)
        end = min(shift + end, local_hi)
        if start < end:
            out.append((start, end))


def local_day(date: dt.date) -> int:
    """
    Return a calendar date as a local day number: days since 1970-01-01.
    """
    return date.toordinal() - _EPOCH_ORDINAL


def _by_start_date(intervals: list[Span]) -> tuple[Span, ...]:
    # Intervals starting on one date are replaced together, so merging them changes
    # nothing; merged, equal hours give equal schedules (the report caches on them). One
    # interval (most dates of most stores) is merged already: ``row_interval`` never
    # makes an empty one.
    if len(intervals) == 1:
        return (intervals[0],)
    return normalise(intervals)


@attrs.frozen(cache_hash=True)
class Schedule:
    """
    A store's business hours as intervals by the local date on which they start.

    Build it with ``Schedule.of``; ``schedule_spans`` turns it into UTC spans. Equal hours
    give equal (and equally hashed) schedules, so a report can share the spans of every
    store with the same zone and schedule.
    """

    #: Per weekday (0 = Monday), the intervals starting on such a date, as offsets from
    #: its local midnight, merged; an interval ends before 48 hours.
    weekly: tuple[tuple[Span, ...], ...]
    #: Special dates as local day numbers (``local_day``), sorted, with the intervals
    #: starting on them; no intervals means closed all that date.
    special: tuple[tuple[int, tuple[Span, ...]], ...] = ()

    @classmethod
    def of(cls, hours: Iterable[HoursRow], special: Iterable[SpecialHoursRow] = ()) -> Schedule:
        """
        Return the schedule of weekly rows (none: open all the time) and special rows.

        Several special rows of one date combine like weekly rows; a closed row adds no
        interval, so a date with a closed row and other rows keeps the other rows.
        """
        hours = list(hours)
        if hours:
            by_weekday: list[list[Span]] = [[] for _ in range(7)]
            for row in hours:
                by_weekday[row.day].append(row_interval(row.start_us, row.end_us))
            weekly = tuple(_by_start_date(intervals) for intervals in by_weekday)
        else:
            weekly = (ALWAYS_OPEN_DAY,) * 7
        by_date: dict[int, list[Span]] = {}
        for special_row in special:
            intervals = by_date.setdefault(local_day(special_row.date), [])
            if not special_row.is_closed:
                intervals.append(row_interval(special_row.start_us, special_row.end_us))
        return cls(
            weekly=weekly,
            special=tuple(
                (day, _by_start_date(intervals)) for day, intervals in sorted(by_date.items())
            ),
        )

    def local_spans(self, local_lo: int, local_hi: int) -> list[Span]:
        """
        Return the business time inside ``[local_lo, local_hi)`` on the wall-clock line
        (local instants), clipped, unsorted and possibly overlapping.
        """
        special = dict(self.special)
        out: list[Span] = []
        # An interval ends before 48 hours after its date's midnight, so the date before
        # the range is the earliest that can reach into it.
        for day in range(local_lo // DAY_US - 1, (local_hi - 1) // DAY_US + 1):
            intervals = special.get(day)
            if intervals is None:
                intervals = self.weekly[(day + _EPOCH_WEEKDAY) % 7]
            _add_clipped(out, intervals, day * DAY_US, local_lo, local_hi)
        return out


def schedule_spans(zone: dt.tzinfo, schedule: Schedule, lo_us: int, hi_us: int) -> tuple[Span, ...]:
    """
    Return the business time of a schedule inside ``[lo_us, hi_us)`` as sorted, disjoint
    UTC spans, special days included. See the module docstring for the rule.
    """
    return _on_the_wall_clock(zone, lo_us, hi_us, schedule.local_spans)


@functools.lru_cache(maxsize=1024)
def window_dates(zone: dt.tzinfo, lo_us: int, hi_us: int) -> tuple[dt.date, dt.date] | None:
    """
    Return the first and last local dates whose intervals can reach into ``[lo_us, hi_us)``
    in this zone; ``None`` for an empty window.

    A special date outside them changes no business time inside the window: its
    intervals, special or weekly, end before the window's wall clock starts or start after
    it ends. Cached per (zone, window).
    """
    pieces = offset_pieces(zone, lo_us, hi_us)
    if not pieces:
        return None
    local_lo = min(piece_lo + offset for piece_lo, _, offset in pieces)
    local_hi = max(piece_hi + offset for _, piece_hi, offset in pieces)
    first_day = local_lo // DAY_US - 1
    last_day = (local_hi - 1) // DAY_US
    return (
        dt.date.fromordinal(first_day + _EPOCH_ORDINAL),
        dt.date.fromordinal(last_day + _EPOCH_ORDINAL),
    )


def special_rows_in_window(
    zone: dt.tzinfo, rows: Iterable[SpecialHoursRow], lo_us: int, hi_us: int
) -> tuple[SpecialHoursRow, ...]:
    """
    Return the special rows whose dates matter inside ``[lo_us, hi_us)``, deduplicated and
    sorted: with the zone and the weekly rows, the key under which stores share spans.
    """
    rows = tuple(rows)
    dates = window_dates(zone, lo_us, hi_us) if rows else None
    if dates is None:
        return ()
    first, last = dates
    return tuple(sorted({row for row in rows if first <= row.date <= last}, key=special_hours_key))
