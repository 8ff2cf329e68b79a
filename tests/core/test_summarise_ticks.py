"""
``uptime.summarise_ticks`` against a count of every tick, on small windows: in particular
the shortcuts for unknown stretches that miss the business time or end before a window.
"""

from __future__ import annotations

import bisect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storemon import uptime
from storemon.interval import normalise

#: Window lengths in microseconds (longest first), small enough to count every tick.
LENGTHS_US = (60, 20, 5)
NOW_TICK = 150
WEEK_LO = NOW_TICK - LENGTHS_US[0] * uptime.TICKS_PER_US


def spans(lo: int, hi: int) -> st.SearchStrategy[tuple[tuple[int, int], ...]]:
    pairs = st.tuples(st.integers(lo, hi), st.integers(0, 40)).map(lambda p: (p[0], p[0] + p[1]))
    return st.lists(pairs, max_size=5).map(normalise)


def counted(
    business: tuple[tuple[int, int], ...], timeline: uptime.StatusTimeline, lo: int
) -> tuple[int, int, int]:
    up = down = unknown = 0
    for tick in range(lo, NOW_TICK):
        if not any(start <= tick < end for start, end in business):
            continue
        if any(start <= tick < end for start, end in timeline.unknown):
            unknown += 1
        elif timeline.first_active ^ (bisect.bisect_right(timeline.flips, tick) % 2 == 1):
            up += 1
        else:
            down += 1
    return up, down, unknown


@given(
    business=spans(WEEK_LO, NOW_TICK).map(
        lambda found: tuple((max(s, WEEK_LO), min(e, NOW_TICK)) for s, e in found if s < NOW_TICK)
    ),
    first_active=st.booleans(),
    flips=st.sets(st.integers(WEEK_LO - 20, NOW_TICK + 20)).map(lambda f: tuple(sorted(f))),
    stretches=spans(WEEK_LO - 80, NOW_TICK + 40),
    before_all=st.booleans(),
)
def test_every_window_counts_what_a_tick_count_does(
    business: tuple[tuple[int, int], ...],
    first_active: bool,
    flips: tuple[int, ...],
    stretches: tuple[tuple[int, int], ...],
    before_all: bool,
) -> None:
    """Uptime, downtime and unknown of each window equal a tick-by-tick count."""
    business = normalise(business)
    if before_all:  # the stretch before the first poll, from the start of time
        stretches = normalise(((uptime.BEFORE_ALL_TICKS, WEEK_LO - 90), *stretches))
    timeline = uptime.StatusTimeline(first_active, flips, stretches)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(uptime, "WINDOW_LENGTHS_US", LENGTHS_US)
        got = uptime.summarise_ticks(business, timeline, NOW_TICK)
    for index, length_us in enumerate(LENGTHS_US):
        lo = NOW_TICK - length_us * uptime.TICKS_PER_US
        expected = counted(business, timeline, lo)
        assert (got.uptime[index], got.downtime[index], got.unknown[index]) == expected
