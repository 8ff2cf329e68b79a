"""
Tests of ``storemon.explain``: a store's timeline agrees with its report row.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from storemon import HoursRow, StoreSnapshot
from storemon.explain import explain_store
from storemon.model import to_epoch_us

UTC = dt.UTC


def _measure(spans, business) -> Fraction:
    total = dt.timedelta()
    for span in spans:
        for open_at, close_at in business:
            start, end = max(span.start, open_at), min(span.end, close_at)
            if start < end:
                total += end - start
    return Fraction(total // dt.timedelta(microseconds=1), 3_600_000_000)


def test_timeline_totals_equal_the_report_row():
    """The active and inactive business time drawn from the timeline equals the week row."""
    as_of = dt.datetime(2024, 3, 12, 18, 0, tzinfo=UTC)
    polls = [as_of - dt.timedelta(hours=h) for h in (200, 150, 90, 60, 30, 5, 1)]
    snapshot = StoreSnapshot(
        store_id="s1",
        zone_key="America/Chicago",
        hours=(HoursRow(d, dt.time(9), dt.time(17)) for d in range(7)),
        poll_at_us=[to_epoch_us(p) for p in polls],
        poll_active=[True, False, True, True, False, True, True],
    )
    timeline = explain_store(snapshot, as_of=as_of)
    assert timeline is not None
    active = [s for s in timeline.status if s.active]
    inactive = [s for s in timeline.status if not s.active]
    assert _measure(active, timeline.business) == timeline.row.uptime_last_week
    assert _measure(inactive, timeline.business) == timeline.row.downtime_last_week
    # The spring-forward change of 2024-03-10 lies inside the week.
    assert [c.at for c in timeline.offset_changes] == [dt.datetime(2024, 3, 10, 8, tzinfo=UTC)]
    assert timeline.status[0].start == timeline.window_start
    assert timeline.status[-1].end == timeline.as_of


def test_store_without_polls_has_no_timeline():
    """A store whose only poll is after as_of has nothing to explain."""
    as_of = dt.datetime(2024, 1, 10, tzinfo=UTC)
    snapshot = StoreSnapshot(
        store_id="late",
        zone_key=None,
        hours=(),
        poll_at_us=[to_epoch_us(as_of) + 1],
        poll_active=[True],
    )
    assert explain_store(snapshot, as_of=as_of) is None
