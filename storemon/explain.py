"""
Why a report row is what it is: one store's last week as spans, for pictures and audits.

``explain_store`` uses the same business spans and status timeline as the report
(``ReportBuilder``), so a timeline drawn from it cannot disagree with the numbers.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Sized

import attrs

from storemon.drawing import timeline_html, timeline_svg, timeline_text
from storemon.errors import DataError
from storemon.localtime import offset_pieces, special_rows_in_window, zone_for
from storemon.model import (
    DEFAULT_ZONE_KEY,
    ReportRow,
    SpecialHoursRow,
    StoreSnapshot,
    from_epoch_us,
)
from storemon.parsing import quoted
from storemon.report import ReportBuilder, report_row, snapshot_problem
from storemon.uptime import TICKS_PER_US, StatusTimeline


@attrs.frozen
class StatusSpan:
    """
    A stretch of the window with one interpolated status.
    """

    start: dt.datetime
    end: dt.datetime
    active: bool


@attrs.frozen
class OffsetChange:
    """
    A change of the zone's UTC offset (a DST transition) inside the window.
    """

    at: dt.datetime
    offset_before: dt.timedelta
    offset_after: dt.timedelta


def _without(
    spans: list[tuple[dt.datetime, dt.datetime]],
    cuts: tuple[tuple[dt.datetime, dt.datetime], ...],
) -> list[tuple[dt.datetime, dt.datetime]]:
    """
    Return ``spans`` without the points of ``cuts`` (both sorted and disjoint).
    """
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in spans:
        cursor = start
        for cut_start, cut_end in cuts:
            if cut_end <= cursor or cut_start >= end:
                continue
            if cut_start > cursor:
                out.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
        if cursor < end:
            out.append((cursor, end))
    return out


def _count(noun: str) -> Callable[[Sized], str]:
    def count(items: Sized) -> str:
        return f"<{len(items)} {noun}>"

    return count


@attrs.frozen
class StoreTimeline:
    """
    One store's last week: business time, status, polls and DST changes, with its row.
    """

    store_id: str
    zone_key: str
    as_of: dt.datetime
    window_start: dt.datetime
    # The spans and polls are counted in the repr (a notebook's text form), not listed.
    #: Business time inside the last-week window, UTC.
    business: tuple[tuple[dt.datetime, dt.datetime], ...] = attrs.field(repr=_count("spans"))
    #: The interpolated status over the whole window.
    status: tuple[StatusSpan, ...] = attrs.field(repr=_count("spans"))
    #: Polls inside the window (and the one before it that decides its start).
    polls: tuple[tuple[dt.datetime, bool], ...] = attrs.field(repr=_count("polls"))
    offset_changes: tuple[OffsetChange, ...]
    row: ReportRow
    #: Stretches of the window where the status is unknown (SEMANTICS.md, "Unknown
    #: time"), UTC, clipped to the window; empty without a maximum gap.
    unknown: tuple[tuple[dt.datetime, dt.datetime], ...] = attrs.field(
        default=(), repr=_count("spans")
    )
    #: The store's special days whose dates can touch the window (SEMANTICS.md,
    #: "Special days"), sorted by date.
    special: tuple[SpecialHoursRow, ...] = ()
    #: The maximum gap the row was computed with, or ``None``.
    max_gap: dt.timedelta | None = None

    def outages(self) -> list[tuple[dt.datetime, dt.datetime]]:
        """
        Return the stretches of business time in the week that the store was known to be
        inactive, in order; stretches that touch (an outage across two business spans
        meeting at midnight) are one. They add up to the week's downtime (unknown time,
        with a maximum gap, is no outage).
        """
        pieces = sorted(
            (max(span.start, start, self.window_start), min(span.end, end))
            for start, end in self.business
            for span in self.status
            if not span.active
        )
        merged: list[tuple[dt.datetime, dt.datetime]] = []
        for start, end in pieces:
            if start >= end:
                continue
            if merged and merged[-1][1] >= start:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return _without(merged, self.unknown)

    def to_text(self) -> str:
        """
        Return the week as text for a terminal: the numbers, business hours, outages,
        polls and clock changes, in the store's local time (``storemon explain``).
        """
        return timeline_text(self)

    def to_svg(self) -> str:
        """
        Return the web page's drawing of the week, day and hour, with its legend, as SVG.
        """
        return timeline_svg(self)

    def _repr_svg_(self) -> str:
        # Jupyter shows the drawing; ``_repr_html_`` adds the numbers around it.
        return self.to_svg()

    def _repr_html_(self) -> str:
        return timeline_html(self)


def _tick_instant(tick: int) -> dt.datetime:
    # Half-microsecond midpoints are rounded down for display only; the numbers in ``row``
    # stay exact.
    return from_epoch_us(tick // TICKS_PER_US)


def _status_spans(timeline: StatusTimeline, lo: int, hi: int) -> tuple[StatusSpan, ...]:
    spans: list[StatusSpan] = []
    active = timeline.first_active
    cursor = lo
    for flip in timeline.flips:
        if flip >= hi:
            break
        if flip > cursor:
            spans.append(StatusSpan(_tick_instant(cursor), _tick_instant(flip), active))
            cursor = flip
        active = not active
    if cursor < hi:
        spans.append(StatusSpan(_tick_instant(cursor), _tick_instant(hi), active))
    return tuple(spans)


def explain_store(
    snapshot: StoreSnapshot,
    *,
    as_of: dt.datetime,
    default_zone_key: str = DEFAULT_ZONE_KEY,
    max_gap: dt.timedelta | None = None,
) -> StoreTimeline | None:
    """
    Return the store's timeline over the last week, or ``None`` if it has no poll by ``as_of``.

    Raises:
        DataError: the store's stored rows cannot be read (a report leaves it out), or its
            zone is unknown.
    """
    problem = snapshot_problem(snapshot)
    if problem is not None:
        # Read without the rows it lost, the week would be explained wrongly (open 24x7).
        raise DataError(f"store {quoted(snapshot.store_id)} cannot be explained: {problem}")
    builder = ReportBuilder(as_of, default_zone_key=default_zone_key, max_gap=max_gap)
    ticks = builder.measure(snapshot)
    timeline = builder.timeline(snapshot)
    if ticks is None or timeline is None:
        return None
    zone_key = snapshot.zone_key or default_zone_key
    lo_us, hi_us = builder.window_start_us, builder.as_of_us
    business = builder.business_week_ticks(snapshot.zone_key, snapshot.hours, snapshot.special)
    zone = zone_for(zone_key)
    pieces = offset_pieces(zone, lo_us, hi_us)
    lo_tick, hi_tick = lo_us * TICKS_PER_US, hi_us * TICKS_PER_US
    unknown = tuple(
        (_tick_instant(max(start, lo_tick)), _tick_instant(min(end, hi_tick)))
        for start, end in timeline.unknown
        if start < hi_tick and end > lo_tick
    )
    changes = tuple(
        OffsetChange(
            at=from_epoch_us(after[0]),
            offset_before=dt.timedelta(microseconds=before[2]),
            offset_after=dt.timedelta(microseconds=after[2]),
        )
        for before, after in itertools.pairwise(pieces)
    )
    polls = tuple(
        (from_epoch_us(at), bool(active))
        for at, active in zip(snapshot.poll_at_us, snapshot.poll_active, strict=True)
        if at <= hi_us
    )
    return StoreTimeline(
        store_id=snapshot.store_id,
        zone_key=zone_key,
        as_of=from_epoch_us(hi_us),
        window_start=from_epoch_us(lo_us),
        business=tuple((_tick_instant(s), _tick_instant(e)) for s, e in business),
        status=_status_spans(timeline, lo_us * TICKS_PER_US, hi_us * TICKS_PER_US),
        polls=polls,
        offset_changes=changes,
        row=report_row(snapshot.store_id, ticks),
        unknown=unknown,
        special=special_rows_in_window(zone, snapshot.special, lo_us, hi_us),
        max_gap=builder.max_gap,
    )
