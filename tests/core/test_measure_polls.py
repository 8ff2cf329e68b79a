"""
``uptime.measure_polls``, the report's hot path, against a count of every tick made from
the polls themselves (nearest poll, unknown further than half the gap from every poll),
on small windows: in particular its shortcut of taking each unknown stretch's business
ticks back from a measure that first treats every instant as known, with the status
inside a stretch read from the gap's two polls instead of the flips.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storemon import uptime
from storemon.interval import normalise

#: Window lengths in microseconds (longest first), small enough to count every tick.
LENGTHS_US = (60, 20, 5)
NOW_US = 75
NOW_TICK = NOW_US * uptime.TICKS_PER_US
WEEK_LO = NOW_TICK - LENGTHS_US[0] * uptime.TICKS_PER_US


def counted(
    business: tuple[tuple[int, int], ...],
    times: list[int],
    actives: list[bool],
    max_gap_us: int | None,
    lo: int,
) -> tuple[int, int, int]:
    """
    Uptime, downtime and unknown ticks of the business spans from ``lo`` to the end of
    the spans, tick by tick, straight from the rules of SEMANTICS.md: polls after now do
    not exist; tick ``t`` (the half-open ``[t, t + 1)``) has the status of the nearest
    poll (the later one from the midpoint of two on), and is unknown when it lies further
    than half the gap from every poll, ends included (an instant exactly half the gap away
    is known, but it measures nothing).
    """
    polls = [(2 * at, active) for at, active in zip(times, actives, strict=True) if at <= NOW_US]
    up = down = unknown = 0
    end = max((span_end for _, span_end in business), default=lo)
    for tick in range(lo, end):
        if not polls or not any(start <= tick < stop for start, stop in business):
            continue
        if max_gap_us is not None and all(
            tick + 1 <= at - max_gap_us or tick >= at + max_gap_us for at, _ in polls
        ):
            unknown += 1
            continue
        # The nearest poll: the status changes at the midpoint of two polls (a whole tick).
        active = polls[0][1]
        for (before, _), (after, after_active) in itertools.pairwise(polls):
            if tick >= (before + after) // 2:
                active = after_active
        if active:
            up += 1
        else:
            down += 1
    return up, down, unknown


def spans(lo: int, hi: int) -> st.SearchStrategy[tuple[tuple[int, int], ...]]:
    pairs = st.tuples(st.integers(lo, hi), st.integers(0, 40)).map(lambda p: (p[0], p[0] + p[1]))
    return st.lists(pairs, max_size=6).map(normalise)


@given(
    business=spans(WEEK_LO - 10, NOW_TICK + 10),
    times=st.sets(st.integers(-20, NOW_US + 10), max_size=12).map(sorted),
    statuses=st.lists(st.booleans(), min_size=12, max_size=12),
    max_gap_us=st.none() | st.integers(1, 30),
    thinned=st.booleans(),
)
def test_every_window_counts_what_a_tick_count_does(
    business: tuple[tuple[int, int], ...],
    times: list[int],
    statuses: list[bool],
    max_gap_us: int | None,
    thinned: bool,
) -> None:
    """Uptime, downtime and unknown of each window equal a tick-by-tick count of the polls."""
    actives = statuses[: len(times)]
    every_time, every_active = times, actives
    gap_after = None
    if thinned and max_gap_us is not None:
        # The polls a backend sends: kept_polls_with_gaps of those at or before now.
        count = sum(1 for at in times if at <= NOW_US)
        if count:
            flags = "".join("1" if active else "0" for active in actives[:count])
            kept = uptime.kept_polls_with_gaps(flags, times[:count], max_gap_us)
            times = [times[index] for index in kept.indices]
            actives = [actives[index] for index in kept.indices]
            gap_after = kept.gap_after
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(uptime, "WINDOW_LENGTHS_US", LENGTHS_US)
        measure = uptime.BusinessMeasure.of(business)
        totals = uptime.window_business_ticks(business, NOW_TICK)
        got = uptime.measure_polls(measure, totals, times, actives, NOW_US, max_gap_us, gap_after)
        timeline = uptime.status_timeline(times, actives, NOW_US, max_gap_us, gap_after=gap_after)
        expected_ticks = (
            None if timeline is None else uptime.summarise_ticks(business, timeline, NOW_TICK)
        )
    assert got == expected_ticks
    if got is None:
        assert not any(at <= NOW_US for at in times)
        return
    for index, length_us in enumerate(LENGTHS_US):
        lo = NOW_TICK - length_us * uptime.TICKS_PER_US
        expected = counted(business, every_time, every_active, max_gap_us, lo)
        assert (got.uptime[index], got.downtime[index], got.unknown[index]) == expected


def test_a_flip_inside_an_unknown_stretch_splits_its_business_time() -> None:
    """A gap between an active and an inactive poll: active up to the midpoint, then not."""
    # Polls at 0 (active) and 40 (inactive) us, gap 10 us: unknown ticks [10, 70), the
    # flip at tick 40. Business [20, 60) lies inside the stretch, across the flip.
    business = ((20, 60),)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(uptime, "WINDOW_LENGTHS_US", (40, 20, 5))
        got = uptime.measure_polls(
            uptime.BusinessMeasure.of(business),
            uptime.window_business_ticks(business, 80),
            [0, 40],
            [True, False],
            40,
            10,
        )
    assert got == uptime.UptimeTicks(uptime=(0, 0, 0), downtime=(0, 0, 0), unknown=(40, 20, 0))


def test_business_measure_counts_the_ticks_before_an_instant() -> None:
    measure = uptime.BusinessMeasure.of([(10, 20), (30, 35), (20, 25)])
    assert measure.spans == ((10, 25), (30, 35))
    assert [measure.before(tick) for tick in (0, 10, 12, 25, 28, 30, 33, 35, 99)] == [
        0,
        0,
        2,
        15,
        15,
        15,
        18,
        20,
        20,
    ]
    assert uptime.BusinessMeasure.of([]).before(5) == 0
