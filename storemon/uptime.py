"""
Uptime and downtime of one store: the interpolation rule and the hot path.

Each instant takes the status of the poll nearest in time (SEMANTICS.md, "Status between
polls"): between two consecutive polls the status changes at their midpoint; before the
first poll the first holds, after the last the last holds. Only polls at or before ``now``
exist.

Midpoints of microsecond instants can fall on half microseconds, so this module measures
time in *ticks* of half a microsecond: an instant ``t`` (microseconds) is the tick
``2 * t`` and the midpoint of ``a`` and ``b`` is the tick ``a + b``, an exact integer.

The work per poll is one comparison in ``status_changes``; everything else is per change of
status or per business span, so a store polled every hour for a week costs about 170
comparisons.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

import attrs

from storemon.interval import Span
from storemon.model import DAY_US, HOUR_US, WEEK_US

#: Half-microsecond ticks per microsecond.
TICKS_PER_US = 2

#: The report's windows, longest first: last week, last day, last hour (microseconds).
WINDOW_LENGTHS_US = (WEEK_US, DAY_US, HOUR_US)


@attrs.frozen
class StatusTimeline:
    """
    A store's status over all time as a start status and the ticks where it flips.
    """

    #: The status before the first flip (the status of the first poll).
    first_active: bool
    #: Ticks at which the status flips, strictly increasing.
    flips: tuple[int, ...]


def status_changes(
    poll_at_us: Sequence[int], poll_active: Sequence[bool], now_us: int
) -> StatusTimeline | None:
    """
    Return the status timeline of the polls at or before ``now_us``; ``None`` if none.

    ``poll_at_us`` must be strictly increasing.
    """
    count = bisect.bisect_right(poll_at_us, now_us)
    if count == 0:
        return None
    flips: list[int] = []
    previous_at = poll_at_us[0]
    previous_active = poll_active[0]
    for index in range(1, count):
        active = poll_active[index]
        at = poll_at_us[index]
        if active != previous_active:
            # The midpoint of the two polls, in ticks.
            flips.append(previous_at + at)
            previous_active = active
        previous_at = at
    return StatusTimeline(bool(poll_active[0]), tuple(flips))


def kept_polls(statuses: str) -> list[int]:
    """
    Return the indices of the polls that decide a store's timeline, given their statuses
    in time order as a string of ``0`` and ``1`` (one character per poll).

    Kept: the first and the last poll, and both polls of every change of status. Proof
    that the rest changes no number: ``status_changes`` makes a flip only between two
    consecutive polls of different statuses, at their midpoint, and starts from the first
    poll's status. Drop one poll ``k`` (neither first nor last) whose status equals both
    neighbours': the pairs ``(k-1, k)`` and ``(k, k+1)`` made no flip, the new pair
    ``(k-1, k+1)`` makes none either, every other pair is unchanged, and so is the first
    poll; the timeline is the same, and the engine reads nothing else of the polls. By
    induction, dropping every such poll keeps the timeline. The polls kept here are
    exactly those that are not such a poll.
    """
    last = len(statuses) - 1
    if last <= 1:
        return list(range(last + 1))
    kept = [0]
    for match in _CHANGE.finditer(statuses):
        before = match.start()
        if kept[-1] != before:
            kept.append(before)
        kept.append(before + 1)
    if kept[-1] != last:
        kept.append(last)
    return kept


#: A change of status between two consecutive polls; overlapping changes ("010") are
#: found by the lookahead.
_CHANGE = re.compile(r"(?=01|10)")


def active_ticks(business: Sequence[Span], timeline: StatusTimeline, lo: int) -> int:
    """
    Return how many ticks of the business spans at or after ``lo`` the store was active.

    ``business`` holds sorted, disjoint spans in ticks.
    """
    flips = timeline.flips
    total = 0
    for start, end in business:
        if end <= lo:
            continue
        start = max(start, lo)
        # Flips before ``start`` decide the status at ``start``.
        index = bisect.bisect_right(flips, start)
        active = timeline.first_active ^ (index % 2 == 1)
        cursor = start
        while index < len(flips) and flips[index] < end:
            if active:
                total += flips[index] - cursor
            cursor = flips[index]
            active = not active
            index += 1
        if active:
            total += end - cursor
    return total


def business_ticks(business: Sequence[Span], lo: int) -> int:
    """
    Return the length in ticks of the business spans at or after ``lo``.
    """
    return sum(end - max(start, lo) for start, end in business if end > lo)


@attrs.frozen
class UptimeTicks:
    """
    Exact uptime and downtime of one store, in ticks, for the week, day and hour windows.
    """

    uptime: tuple[int, int, int]
    downtime: tuple[int, int, int]


def window_business_ticks(business_week: Sequence[Span], now_tick: int) -> tuple[int, ...]:
    """
    Return the business ticks in each window ending at ``now_tick`` (longest first).
    """
    return tuple(
        business_ticks(business_week, now_tick - length_us * TICKS_PER_US)
        for length_us in WINDOW_LENGTHS_US
    )


def summarise_ticks(
    business_week: Sequence[Span],
    timeline: StatusTimeline,
    now_tick: int,
    business_totals: Sequence[int] | None = None,
) -> UptimeTicks:
    """
    Measure uptime and downtime in each window ending at ``now_tick``.

    ``business_week`` is the store's business time in the last-week window, in ticks;
    ``business_totals``, if given, is ``window_business_ticks(business_week, now_tick)``.
    """
    if business_totals is None:
        business_totals = window_business_ticks(business_week, now_tick)
    uptime: list[int] = []
    downtime: list[int] = []
    for length_us, business in zip(WINDOW_LENGTHS_US, business_totals, strict=True):
        lo = now_tick - length_us * TICKS_PER_US
        up = active_ticks(business_week, timeline, lo)
        uptime.append(up)
        downtime.append(business - up)
    return UptimeTicks(
        uptime=(uptime[0], uptime[1], uptime[2]), downtime=(downtime[0], downtime[1], downtime[2])
    )
