"""
Uptime, downtime and unknown time of one store: the interpolation rule and the hot path.

Each instant takes the status of the poll nearest in time (SEMANTICS.md, "Status between
polls"): between two consecutive polls the status changes at their midpoint; before the
first poll the first holds, after the last the last holds. Only polls at or before ``now``
exist.

With a maximum gap ``G`` (SEMANTICS.md, "Unknown time"), an instant further than ``G/2``
from every poll is unknown: between consecutive polls ``a < b`` with ``b - a > G`` the
stretch ``(a + G/2, b - G/2)``, before the first poll everything further than ``G/2`` from
it, after the last likewise. An instant exactly ``G/2`` away is known; single instants
measure nothing, so the stretches are kept as half-open spans like all others. Known
instants keep the nearest poll's status, so a midpoint flip inside an unknown stretch
changes nothing.

Midpoints of microsecond instants can fall on half microseconds, so this module measures
time in *ticks* of half a microsecond: an instant ``t`` (microseconds) is the tick
``2 * t`` and the midpoint of ``a`` and ``b`` is the tick ``a + b``, an exact integer.
``G`` is a whole number of microseconds, so ``G/2`` microseconds is exactly ``G`` ticks,
odd or even: the unknown stretch of a gap is the ticks ``(2a + G, 2b - G)``, the stretch
before the first poll ends at ``2 * first - G`` and the one after the last starts at
``2 * last + G``. Every boundary is an integer tick and nothing is rounded.

The work per poll is one comparison in ``status_changes``; everything else is per change of
status or per business span, so a store polled every hour for a week costs about 170
comparisons. With a maximum gap, finding the gaps costs one subtraction and comparison per
poll (``gaps_over``), skipped when the first and last poll are within the gap, and the
unknown stretches cost per gap.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

import attrs

from storemon.errors import DataError
from storemon.interval import Span, difference, normalise
from storemon.model import DAY_US, HOUR_US, WEEK_US

#: Half-microsecond ticks per microsecond.
TICKS_PER_US = 2

#: The report's windows, longest first: last week, last day, last hour (microseconds).
WINDOW_LENGTHS_US = (WEEK_US, DAY_US, HOUR_US)

#: Ticks that stand for "before every instant" and "after every instant": the ends of the
#: unknown stretches before the first and after the last poll (year 1 and year 9999 are
#: about 2**58 ticks from the epoch).
BEFORE_ALL_TICKS = -(2**63)
AFTER_ALL_TICKS = 2**63


@attrs.frozen
class StatusTimeline:
    """
    A store's status over all time as a start status and the ticks where it flips, and,
    with a maximum gap, the stretches where the status is unknown.
    """

    #: The status before the first flip (the status of the first poll).
    first_active: bool
    #: Ticks at which the status flips, strictly increasing.
    flips: tuple[int, ...]
    #: Unknown stretches in ticks, sorted and disjoint; empty without a maximum gap. The
    #: one before the first poll starts at ``BEFORE_ALL_TICKS``, the one after the last
    #: ends at ``AFTER_ALL_TICKS``.
    unknown: tuple[Span, ...] = ()


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
    return StatusTimeline(bool(poll_active[0]), _flips(poll_at_us, poll_active, count))


def _flips(poll_at_us: Sequence[int], poll_active: Sequence[bool], count: int) -> tuple[int, ...]:
    """
    The ticks where the status of the first ``count`` polls flips (``count >= 1``).
    """
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
    return tuple(flips)


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
    # Each change is the next poll of the other status: one ``str.find`` per change, in C
    # up to it (a third of the time of a regular expression that looks at every poll).
    other = "1" if statuses[0] == "0" else "0"
    after = statuses.find(other)
    while after != -1:
        if kept[-1] != after - 1:
            kept.append(after - 1)
        kept.append(after)
        other = "1" if other == "0" else "0"
        after = statuses.find(other, after)
    if kept[-1] != last:
        kept.append(last)
    return kept


def gaps_over(poll_at_us: Sequence[int], count: int, max_gap_us: int) -> list[int]:
    """
    Return the indices ``i < count - 1`` where ``poll_at_us[i + 1] - poll_at_us[i]`` is
    more than ``max_gap_us``, increasing.
    """
    if count < 2 or poll_at_us[count - 1] - poll_at_us[0] <= max_gap_us:
        return []
    # One subtraction and one comparison per poll; a comprehension measured faster here
    # than the same pass through ``map`` and ``itertools.compress``.
    return [
        index
        for index in range(count - 1)
        if poll_at_us[index + 1] - poll_at_us[index] > max_gap_us
    ]


def unknown_stretches(
    poll_at_us: Sequence[int],
    count: int,
    max_gap_us: int,
    gap_after: Sequence[int] | None = None,
) -> tuple[Span, ...]:
    """
    Return the unknown stretches, in ticks, of the first ``count`` polls (``count >= 1``).

    ``gap_after`` lists the positions ``i`` (increasing) where polls ``i`` and ``i + 1``
    are further apart than ``max_gap_us`` and were consecutive in the full data; ``None``
    means the polls are complete and the gaps are found from them (``gaps_over``).
    """
    if max_gap_us <= 0:
        raise DataError(f"the maximum gap must be positive, got {max_gap_us} microseconds")
    half = max_gap_us  # G/2 microseconds is G ticks.
    first, last = poll_at_us[0], poll_at_us[count - 1]
    if gap_after is None:
        gap_after = gaps_over(poll_at_us, count, max_gap_us)
    # A gap's stretch is never empty (its polls are more than G apart); the one before
    # the first poll and the one after the last are empty for a gap longer than all of
    # time, which leaves nothing unknown there.
    stretches: list[Span] = []
    if 2 * first - half > BEFORE_ALL_TICKS:
        stretches.append((BEFORE_ALL_TICKS, 2 * first - half))
    for index in gap_after:
        if index + 1 >= count:
            break  # a gap that ends after now: its later poll does not exist yet
        before, after = poll_at_us[index], poll_at_us[index + 1]
        if after - before <= max_gap_us:
            raise DataError(
                f"polls {index} and {index + 1} are {after - before} microseconds apart, "
                f"not a gap over {max_gap_us}"
            )
        stretches.append((2 * before + half, 2 * after - half))
    if 2 * last + half < AFTER_ALL_TICKS:
        stretches.append((2 * last + half, AFTER_ALL_TICKS))
    return tuple(stretches)


def status_timeline(
    poll_at_us: Sequence[int],
    poll_active: Sequence[bool],
    now_us: int,
    max_gap_us: int | None = None,
    *,
    gap_after: Sequence[int] | None = None,
) -> StatusTimeline | None:
    """
    Return the status timeline of the polls at or before ``now_us``, with its unknown
    stretches when ``max_gap_us`` is given; ``None`` if there is no such poll.

    Without ``max_gap_us`` this is ``status_changes``. ``poll_at_us`` must be strictly
    increasing. ``gap_after`` is for polls thinned by ``kept_polls_with_gaps`` (its
    ``gap_after``); leave it ``None`` for complete polls.
    """
    if max_gap_us is None:
        return status_changes(poll_at_us, poll_active, now_us)
    count = bisect.bisect_right(poll_at_us, now_us)
    if count == 0:
        return None
    return StatusTimeline(
        bool(poll_active[0]),
        _flips(poll_at_us, poll_active, count),
        unknown_stretches(poll_at_us, count, max_gap_us, gap_after),
    )


@attrs.frozen
class KeptPolls:
    """
    The polls that decide a store's timeline with a maximum gap (``kept_polls_with_gaps``).
    """

    #: Indices of the kept polls, increasing.
    indices: tuple[int, ...]
    #: Positions in ``indices`` of the kept polls followed by a gap over the maximum: pass
    #: it as ``status_timeline(..., gap_after=...)`` with the kept polls.
    gap_after: tuple[int, ...]


def kept_polls_with_gaps(statuses: str, poll_at_us: Sequence[int], max_gap_us: int) -> KeptPolls:
    """
    Return the polls that decide a store's timeline with the maximum gap ``max_gap_us``,
    given the statuses as for ``kept_polls`` and the instants (microseconds, strictly
    increasing) of the store's polls at or before ``now``.

    Kept: what ``kept_polls`` keeps (the first and last poll, both polls of every change of
    status) and both polls of every gap over ``max_gap_us``. Thinned polls are further
    apart than the polls they stand for, so the engine cannot find the gaps from them
    again: ``gap_after`` says which kept neighbours are a gap, and ``status_timeline`` takes
    it. Proof that the rest changes no number: with ``gap_after``, ``status_timeline``
    reads the first poll's status and instant, the last poll's instant, the midpoint of
    every two consecutive polls of different statuses (the flips), and the two instants of
    every listed gap (the unknown stretches); nothing else of the polls. Drop one poll
    ``k`` (neither first nor last) whose status equals both neighbours' and that ends no
    gap: as in ``kept_polls`` the flips and the first poll stay; the last poll stays; the
    pairs ``(k-1, k)`` and ``(k, k+1)`` were no gap, and the new pair ``(k-1, k+1)`` is
    not listed, while every listed gap is a pair of polls that are kept and were
    consecutive, so they stay consecutive and listed. The timeline is the same; by
    induction, dropping every such poll keeps it. The polls not kept here are exactly
    those.
    """
    count = len(poll_at_us)
    if len(statuses) != count:
        raise ValueError(f"{len(statuses)} statuses for {count} poll instants")
    gaps = gaps_over(poll_at_us, count, max_gap_us)
    if not gaps:
        return KeptPolls(tuple(kept_polls(statuses)), ())
    indices = sorted(set(kept_polls(statuses)).union(gaps, [index + 1 for index in gaps]))
    position = {index: place for place, index in enumerate(indices)}
    return KeptPolls(tuple(indices), tuple(position[index] for index in gaps))


def active_ticks(business: Sequence[Span], timeline: StatusTimeline, lo: int) -> int:
    """
    Return how many ticks of the business spans at or after ``lo`` the store was active.

    ``business`` holds sorted, disjoint spans in ticks.
    """
    return _active_ticks(business, timeline.first_active, timeline.flips, lo)


def _active_ticks(
    business: Sequence[Span], first_active: bool, flips: Sequence[int], lo: int
) -> int:
    # ``active_ticks`` of the timeline that starts ``first_active`` and flips at ``flips``.
    total = 0
    for start, end in business:
        if end <= lo:
            continue
        start = max(start, lo)
        # Flips before ``start`` decide the status at ``start``.
        index = bisect.bisect_right(flips, start)
        active = first_active ^ (index % 2 == 1)
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
    Exact uptime, downtime and unknown time of one store, in ticks, for the week, day and
    hour windows: ``uptime + downtime + unknown`` is the business time of each window.
    """

    uptime: tuple[int, int, int]
    downtime: tuple[int, int, int]
    #: All zero without a maximum gap.
    unknown: tuple[int, int, int] = (0, 0, 0)


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
    Measure uptime, downtime and unknown time in each window ending at ``now_tick``.

    ``business_week`` is the store's business time in the last-week window, in ticks;
    ``business_totals``, if given, is ``window_business_ticks(business_week, now_tick)``.
    Without unknown stretches in ``timeline`` this is exactly the measure without a
    maximum gap; with them, uptime and downtime are measured on the known business time.
    """
    if business_totals is None:
        business_totals = window_business_ticks(business_week, now_tick)
    # Only the stretches that overlap the business time can change a number: most stores
    # have one before their first poll, long before the week, and a hole in the week
    # rarely reaches into the last day or hour.
    stretches = (
        _overlapping(timeline.unknown, business_week[0][0], business_week[-1][1])
        if business_week
        else ()
    )
    if not stretches:
        return _summarise_known(business_week, timeline, now_tick, business_totals)
    known = tuple(difference(business_week, stretches))
    uptime: list[int] = []
    downtime: list[int] = []
    unknown: list[int] = []
    for length_us, business in zip(WINDOW_LENGTHS_US, business_totals, strict=True):
        lo = now_tick - length_us * TICKS_PER_US
        if stretches[-1][1] <= lo:  # nothing unknown from lo on: known is business there
            up = active_ticks(business_week, timeline, lo)
            known_total = business
        else:
            up = active_ticks(known, timeline, lo)
            known_total = business_ticks(known, lo)
        uptime.append(up)
        downtime.append(known_total - up)
        unknown.append(business - known_total)
    return UptimeTicks(
        uptime=(uptime[0], uptime[1], uptime[2]),
        downtime=(downtime[0], downtime[1], downtime[2]),
        unknown=(unknown[0], unknown[1], unknown[2]),
    )


def _overlapping(stretches: Sequence[Span], lo: int, hi: int) -> tuple[Span, ...]:
    """
    The stretches (sorted, disjoint) that overlap ``[lo, hi)``.
    """
    return tuple((start, end) for start, end in stretches if start < hi and end > lo)


def _summarise_known(
    business_week: Sequence[Span],
    timeline: StatusTimeline,
    now_tick: int,
    business_totals: Sequence[int],
) -> UptimeTicks:
    """
    ``summarise_ticks`` when nothing is unknown: every store without a maximum gap.
    """
    week, day, hour = (
        active_ticks(business_week, timeline, now_tick - length_us * TICKS_PER_US)
        for length_us in WINDOW_LENGTHS_US
    )
    business_week_total, business_day, business_hour = business_totals
    return UptimeTicks(
        uptime=(week, day, hour),
        downtime=(business_week_total - week, business_day - day, business_hour - hour),
    )


@attrs.frozen
class BusinessMeasure:
    """
    Business spans as a running measure, ``before(tick)``: the business ticks before an
    instant, in one bisection. A report makes one per distinct business time and measures
    the unknown time of every store that shares it with it (``measure_polls``).
    """

    #: Sorted, disjoint, non-empty spans, touching ones merged (``interval.normalise``).
    spans: tuple[Span, ...]
    #: Every span's start and end in order: ``start0, end0, start1, end1, ...``.
    edges: tuple[int, ...]
    #: ``running[k]``: the business ticks before ``edges[k - 1]`` (``running[0]`` is 0),
    #: so that ``k = bisect_right(edges, tick)`` gives ``before(tick)`` at once.
    running: tuple[int, ...]

    @classmethod
    def of(cls, spans: Iterable[Span]) -> BusinessMeasure:
        spans = normalise(spans)
        edges: list[int] = []
        running = [0]
        total = 0
        for start, end in spans:
            edges += (start, end)
            running += (total, total + end - start)
            total += end - start
        return cls(spans, tuple(edges), tuple(running))

    def before(self, tick: int) -> int:
        """
        Return the business ticks before ``tick``.
        """
        k = bisect.bisect_right(self.edges, tick)
        # An odd k falls inside the span that starts at edges[k - 1].
        return self.running[k] + tick - self.edges[k - 1] if k & 1 else self.running[k]


def measure_polls(
    business: BusinessMeasure,
    business_totals: Sequence[int],
    poll_at_us: Sequence[int],
    poll_active: Sequence[bool],
    now_us: int,
    max_gap_us: int | None = None,
    gap_after: Sequence[int] | None = None,
) -> UptimeTicks | None:
    """
    ``summarise_ticks(business.spans, status_timeline(...), 2 * now_us, business_totals)``
    straight from the polls, without the timeline's unknown stretches as spans: the
    report's hot path. ``None`` when no poll is at or before ``now_us``; the arguments are
    those of ``status_timeline``, ``business_totals`` as for ``summarise_ticks``.

    With a maximum gap, the uptime is first measured as if every instant were known, then
    each unknown stretch takes back its business ticks: it adds them to the unknown time
    and takes its active ones from the uptime. That is exact because the stretches are
    disjoint, and cheap because the status inside a stretch needs no search among the
    flips: a stretch of a gap between consecutive polls ``a < b`` lies strictly between
    them, where the only flip the engine makes is at their midpoint (``a + b`` ticks,
    inside the stretch since ``b - a > G``), so the status is ``a``'s before it and
    ``b``'s from it; before the first poll the first poll's status holds, after the last
    poll the last's. Each stretch costs two or three bisections of the business edges.
    """
    count = bisect.bisect_right(poll_at_us, now_us)
    if count == 0:
        return None
    first_active = bool(poll_active[0])
    flips = _flips(poll_at_us, poll_active, count)
    now_tick = now_us * TICKS_PER_US
    spans = business.spans
    lows = [now_tick - length_us * TICKS_PER_US for length_us in WINDOW_LENGTHS_US]
    up = [_active_since(business, first_active, flips, lo) for lo in lows]
    if max_gap_us is None or not spans:
        return UptimeTicks(
            uptime=(up[0], up[1], up[2]),
            downtime=(
                business_totals[0] - up[0],
                business_totals[1] - up[1],
                business_totals[2] - up[2],
            ),
        )
    if max_gap_us <= 0:
        raise DataError(f"the maximum gap must be positive, got {max_gap_us} microseconds")
    if gap_after is None:
        gap_after = gaps_over(poll_at_us, count, max_gap_us)
    last = count - 1
    unknown = [0, 0, 0]
    taken = _UnknownTaker(business, lows, up, unknown)
    half = max_gap_us  # G/2 microseconds is G ticks.
    # Before the first poll: its status throughout.
    taken.stretch(BEFORE_ALL_TICKS, 2 * poll_at_us[0] - half, first_active, 0, first_active)
    for index in gap_after:
        if index >= last:
            break  # a gap that ends after now: its later poll does not exist yet
        before, after = poll_at_us[index], poll_at_us[index + 1]
        if after - before <= max_gap_us:
            raise DataError(
                f"polls {index} and {index + 1} are {after - before} microseconds apart, "
                f"not a gap over {max_gap_us}"
            )
        taken.stretch(
            2 * before + half,
            2 * after - half,
            bool(poll_active[index]),
            before + after,
            bool(poll_active[index + 1]),
        )
    # After the last poll: its status throughout.
    last_active = bool(poll_active[last])
    taken.stretch(2 * poll_at_us[last] + half, AFTER_ALL_TICKS, last_active, 0, last_active)
    return UptimeTicks(
        uptime=(up[0], up[1], up[2]),
        downtime=(
            business_totals[0] - up[0] - unknown[0],
            business_totals[1] - up[1] - unknown[1],
            business_totals[2] - up[2] - unknown[2],
        ),
        unknown=(unknown[0], unknown[1], unknown[2]),
    )


def _active_since(
    business: BusinessMeasure, first_active: bool, flips: Sequence[int], lo: int
) -> int:
    """
    ``active_ticks`` by the business measure: between two consecutive flips the status is
    constant, so each active piece adds ``before(end) - before(start)``; one bisection
    per flip after ``lo`` instead of one pass over the business spans.
    """
    edges, running = business.edges, business.running
    index = bisect.bisect_right(flips, lo)
    active = first_active ^ (index % 2 == 1)
    k = bisect.bisect_right(edges, lo)
    previous = running[k] + lo - edges[k - 1] if k & 1 else running[k]
    total = 0
    for flip in flips[index:]:
        k = bisect.bisect_right(edges, flip)
        at_flip = running[k] + flip - edges[k - 1] if k & 1 else running[k]
        if active:
            total += at_flip - previous
        previous = at_flip
        active = not active
    if active:
        total += running[-1] - previous
    return total


class _UnknownTaker:
    """
    ``measure_polls``'s step per unknown stretch: move its business ticks in each window
    from the uptime (its active ones) and the downtime to the unknown time.
    """

    __slots__ = ("edges", "first", "last", "lows", "running", "unknown", "up")

    def __init__(
        self, business: BusinessMeasure, lows: list[int], up: list[int], unknown: list[int]
    ) -> None:
        self.edges = business.edges
        self.running = business.running
        self.first = business.edges[0]
        self.last = business.edges[-1]
        self.lows = lows
        self.up = up
        self.unknown = unknown

    def stretch(self, start: int, end: int, active: bool, middle: int, then_active: bool) -> None:
        """
        Take the stretch ``[start, end)``, whose status is ``active`` before ``middle``
        and ``then_active`` from it.
        """
        if end <= self.first or start >= self.last:
            return  # no business time in it
        edges, running = self.edges, self.running
        for window, lo in enumerate(self.lows):
            if end <= lo:
                return  # nor in the shorter windows, which start later
            if start < lo:
                start = lo
            k = bisect.bisect_right(edges, start)
            if k & 1:  # inside a span
                at_start = running[k] + start - edges[k - 1]
            elif k == len(edges) or end <= edges[k]:
                return  # in closed time until it ends, from lo on and from any later lo
            else:
                at_start = running[k]
            k = bisect.bisect_right(edges, end)
            at_end = running[k] + end - edges[k - 1] if k & 1 else running[k]
            self.unknown[window] += at_end - at_start
            if active == then_active:
                if active:
                    self.up[window] -= at_end - at_start
                continue
            middle = min(max(middle, start), end)
            k = bisect.bisect_right(edges, middle)
            at_middle = running[k] + middle - edges[k - 1] if k & 1 else running[k]
            self.up[window] -= at_middle - at_start if active else at_end - at_middle
