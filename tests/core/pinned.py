"""
Helpers for the pinned cases of special days and unknown time: one store through the engine,
its numbers in the report's units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fractions import Fraction

from storemon.uptime import UptimeTicks
from tests.core.support import engine_ticks
from tests.strategies import SpecialInput, StoreCase

UTC = dt.UTC
CHICAGO = "America/Chicago"
HOUR_US = 3_600_000_000
_TICKS_PER_HOUR = 2 * HOUR_US
_TICKS_PER_MINUTE = _TICKS_PER_HOUR // 60


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    """
    An aware UTC datetime.
    """
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def store_ticks(
    hours: Sequence[tuple[int, str, str]],
    polls: Sequence[tuple[dt.datetime, bool]],
    as_of: dt.datetime,
    *,
    zone_key: str | None = CHICAGO,
    special: Sequence[SpecialInput] = (),
    max_gap_us: int | None = None,
) -> UptimeTicks:
    """
    The engine's ticks for one store that has a poll by ``as_of``.
    """
    case = StoreCase("store", zone_key, as_of, list(hours), list(polls), list(special))
    ticks = engine_ticks(case, max_gap_us)
    assert ticks is not None
    return ticks


def in_units(ticks: tuple[int, int, int]) -> tuple[Fraction, Fraction, Fraction]:
    """
    Week and day in hours, hour in minutes, as the report writes them (exact).
    """
    week, day, hour = ticks
    return (
        Fraction(week, _TICKS_PER_HOUR),
        Fraction(day, _TICKS_PER_HOUR),
        Fraction(hour, _TICKS_PER_MINUTE),
    )


def business_hours(ticks: UptimeTicks) -> Fraction:
    """
    The week's business time in hours: uptime + downtime + unknown.
    """
    return Fraction(ticks.uptime[0] + ticks.downtime[0] + ticks.unknown[0], _TICKS_PER_HOUR)


def always_active(as_of: dt.datetime) -> list[tuple[dt.datetime, bool]]:
    """
    One active poll ten days before ``as_of``: active throughout the week without a gap.
    """
    return [(as_of - dt.timedelta(days=10), True)]


def hourly(
    first: dt.datetime, last: dt.datetime, active: bool = True
) -> list[tuple[dt.datetime, bool]]:
    """
    Polls on every hour from ``first`` to ``last`` inclusive, all with one status.
    """
    count = int((last - first) / dt.timedelta(hours=1)) + 1
    return [(first + dt.timedelta(hours=index), active) for index in range(count)]
