"""
Hypothesis strategies for storemon's tests: instants, zones, weekly hours, polls, span sets.

Values are plain (strings, tuples, aware UTC datetimes) so that the brute-force reference
(``tests.reference``) and the engine read the same inputs without sharing code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hypothesis import strategies as st

UTC = dt.UTC
SECOND_US = 1_000_000
HOUR_S = 3_600
DAY_S = 86_400
WEEK_S = 7 * DAY_S

#: Zones forced to change their offset inside the week window: (zone key, instant of change).
FORCED_TRANSITIONS: tuple[tuple[str, dt.datetime], ...] = (
    ("America/Chicago", dt.datetime(2024, 3, 10, 8, tzinfo=UTC)),  # 02:00 CST -> 03:00 CDT
    ("America/Chicago", dt.datetime(2024, 11, 3, 7, tzinfo=UTC)),  # 02:00 CDT -> 01:00 CST
    ("Europe/London", dt.datetime(2024, 3, 31, 1, tzinfo=UTC)),
    ("Europe/London", dt.datetime(2024, 10, 27, 1, tzinfo=UTC)),
    ("Australia/Sydney", dt.datetime(2024, 4, 6, 16, tzinfo=UTC)),  # 03:00 AEDT -> 02:00 AEST
    ("Australia/Sydney", dt.datetime(2024, 10, 5, 16, tzinfo=UTC)),  # 02:00 AEST -> 03:00 AEDT
    ("Australia/Lord_Howe", dt.datetime(2024, 4, 6, 15, tzinfo=UTC)),  # 02:00 +11 -> 01:30 +10:30
    ("Australia/Lord_Howe", dt.datetime(2024, 10, 5, 15, 30, tzinfo=UTC)),  # 02:00 -> 02:30
)

#: Zones without DST (or with an odd fixed offset), drawn near the dates above.
STEADY_ZONES = ("Asia/Kolkata", "Etc/GMT+5", "America/Phoenix", "UTC")


def instants(*, aligned: bool = False) -> st.SearchStrategy[dt.datetime]:
    """
    Aware UTC instants from 1995 to 2037; ``aligned`` keeps them on whole minutes.
    """
    base = st.datetimes(
        min_value=dt.datetime(1995, 1, 1),
        max_value=dt.datetime(2037, 12, 31),
        timezones=st.just(UTC),
    )
    if aligned:
        return base.map(lambda at: at.replace(second=0, microsecond=0))
    return base


def _shift_into_week(aligned: bool) -> st.SearchStrategy[dt.timedelta]:
    """
    How long after a transition ``as_of`` falls, so the transition lies inside a window.
    """
    seconds = st.one_of(
        st.integers(1, HOUR_S - 1),  # inside the last hour
        st.integers(1, DAY_S - 1),  # inside the last day
        st.integers(1, WEEK_S - 1),  # inside the last week
    )
    if aligned:
        return seconds.map(lambda s: dt.timedelta(minutes=max(1, s // 60)))
    return st.tuples(seconds, st.integers(0, SECOND_US - 1)).map(
        lambda pair: dt.timedelta(seconds=pair[0], microseconds=pair[1])
    )


def zones() -> st.SearchStrategy[str | None]:
    """
    Zone keys: any zone of the tz database, the forced DST zones, steady zones, or ``None``.
    """
    return st.one_of(
        st.timezones().map(lambda zone: zone.key),
        st.sampled_from([key for key, _ in FORCED_TRANSITIONS] + list(STEADY_ZONES)),
        st.none(),
    )


def zone_and_as_of(*, aligned: bool = False) -> st.SearchStrategy[tuple[str | None, dt.datetime]]:
    """
    A zone key and an ``as_of``; often a DST change falls inside the week before ``as_of``.
    """
    forced = st.tuples(st.sampled_from(FORCED_TRANSITIONS), _shift_into_week(aligned)).map(
        lambda pair: (pair[0][0], pair[0][1] + pair[1])
    )
    steady = st.tuples(
        st.sampled_from(STEADY_ZONES),
        st.sampled_from([at for _, at in FORCED_TRANSITIONS]),
        _shift_into_week(aligned),
    ).map(lambda triple: (triple[0], triple[1] + triple[2]))
    anywhere = st.tuples(zones(), instants(aligned=aligned))
    return st.one_of(forced, steady, anywhere)


#: Times that matter: midnight, DST hours, the "end of day" spellings and their neighbours.
SPECIAL_STARTS = (
    "00:00:00",
    "01:00:00",
    "01:30:00",
    "02:00:00",
    "02:30:00",
    "03:00:00",
    "09:00:00",
    "11:00:00",
    "22:00:00",
    "23:00:00",
    "23:59:00",
)
SPECIAL_ENDS = (
    "00:00:00",
    "00:01:00",
    "01:00:00",
    "02:15:00",
    "03:15:00",
    "05:00:00",
    "12:00:00",
    "23:00:00",
    "23:58:00",
    "23:58:59",
    "23:59",
    "23:59:00",
    "23:59:59",
    "24:00:00",
)


def clock_texts(*, aligned: bool = False) -> st.SearchStrategy[str]:
    """
    Wall-clock times as ``HH:MM:SS`` text; unaligned ones may have seconds and fractions.
    """
    hours = st.integers(0, 23)
    minutes = st.integers(0, 59)
    if aligned:
        return st.builds(lambda h, m: f"{h:02d}:{m:02d}:00", hours, minutes)
    plain = st.builds(
        lambda h, m, s: f"{h:02d}:{m:02d}:{s:02d}", hours, minutes, st.integers(0, 59)
    )
    fraction = st.builds(
        lambda text, digits: f"{text}.{digits}", plain, st.from_regex(r"[0-9]{1,6}", fullmatch=True)
    )
    return st.one_of(plain, plain, fraction)


def hours_rows(*, aligned: bool = False) -> st.SearchStrategy[tuple[int, str, str]]:
    """
    One business-hours row ``(day, start, end)``: same-day, overnight, 24-hour or end-of-day.
    """
    starts = st.one_of(st.sampled_from(SPECIAL_STARTS), clock_texts(aligned=aligned))
    ends = st.one_of(st.sampled_from(SPECIAL_ENDS), clock_texts(aligned=aligned))

    def with_end(pair: tuple[int, str]) -> st.SearchStrategy[tuple[int, str, str]]:
        day, start = pair
        return st.one_of(st.just(start), ends).map(lambda end: (day, start, end))

    return st.tuples(st.integers(0, 6), starts).flatmap(with_end)


#: Hours shapes seen in the real files, and the contract's own examples.
HOURS_TEMPLATES: tuple[tuple[tuple[int, str, str], ...], ...] = (
    tuple((day, "00:00:00", "23:59:00") for day in range(7)),
    tuple((day, "00:00:00", "23:59:59") for day in range(7)),
    tuple(
        row
        for day in range(7)
        for row in ((day, "00:00:00", "01:00:00"), (day, "11:00:00", "23:59:59"))
    ),
    ((4, "22:00:00", "02:00:00"),),
    ((6, "00:00:00", "00:00:00"),),
    ((5, "22:00:00", "03:15:00"),),
    ((6, "01:00:00", "01:30:00"), (6, "02:30:00", "05:00:00")),
    ((0, "09:00:00", "17:00:00"), (0, "12:00:00", "20:00:00")),
)


def weekly_hours(*, aligned: bool = False) -> st.SearchStrategy[list[tuple[int, str, str]]]:
    """
    A store's rows: none (24x7), a real-data template, or random rows (missing days, overlaps).
    """
    random_rows = st.lists(hours_rows(aligned=aligned), min_size=1, max_size=6)
    return st.one_of(
        random_rows,
        st.sampled_from(HOURS_TEMPLATES).map(list),
        random_rows,
        st.just([]),
    )


def _poll_offsets() -> st.SearchStrategy[int]:
    """
    Microseconds from ``as_of`` to a poll: mostly in the week, some before it or after as_of.
    """
    return st.one_of(
        st.integers(-HOUR_S * SECOND_US, 0),
        st.integers(-DAY_S * SECOND_US, 0),
        st.integers(-(WEEK_S + DAY_S) * SECOND_US, DAY_S * SECOND_US),
        st.integers(-8 * DAY_S, 0).map(lambda s: s * SECOND_US),  # whole seconds
    )


def polls(as_of: dt.datetime) -> st.SearchStrategy[list[tuple[dt.datetime, bool]]]:
    """
    One store's polls in ingestion order, sometimes with two at the same instant.
    """
    one = st.tuples(_poll_offsets(), st.booleans()).map(
        lambda pair: (as_of + dt.timedelta(microseconds=pair[0]), pair[1])
    )

    def maybe_duplicate(
        rows: list[tuple[dt.datetime, bool]],
    ) -> st.SearchStrategy[list[tuple[dt.datetime, bool]]]:
        twin = st.tuples(st.sampled_from(rows), st.booleans()).map(
            lambda pair: [*rows, (pair[0][0], pair[1])]
        )
        return st.one_of(st.just(rows), twin)

    return st.lists(one, min_size=1, max_size=20).flatmap(maybe_duplicate)


def store_ids() -> st.SearchStrategy[str]:
    """
    Opaque store ids: 15-19 digit decimals beyond 2**53, UUIDs, or short words (which
    never start with ``-``: a spreadsheet would read that as a formula).
    """
    return st.one_of(
        st.integers(10**14, 2**63 - 1).map(str),
        st.uuids().map(str),
        st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,11}", fullmatch=True),
    )


#: A special-hours row ``(date, start, end)`` as text; empty times mean closed all that date.
SpecialInput = tuple[str, str, str]


@dataclass(frozen=True)
class StoreCase:
    """
    One store's inputs for one report.
    """

    store_id: str
    zone_key: str | None
    as_of: dt.datetime
    hours: list[tuple[int, str, str]]
    polls: list[tuple[dt.datetime, bool]]
    special: list[SpecialInput] = field(default_factory=list)


@st.composite
def store_cases(draw: st.DrawFn, *, aligned: bool = False) -> StoreCase:
    """
    A store, its zone, hours and polls, and the report's ``as_of``.
    """
    zone_key, as_of = draw(zone_and_as_of(aligned=aligned))
    return StoreCase(
        store_id=draw(store_ids()),
        zone_key=zone_key,
        as_of=as_of,
        hours=draw(weekly_hours(aligned=aligned)),
        polls=draw(polls(as_of)),
    )


def special_dates(as_of: dt.datetime) -> st.SearchStrategy[str]:
    """
    Dates from nine days before ``as_of`` to the day after: every local date of its week
    window (DST days too, when one falls inside) and a few just outside it.
    """
    return st.integers(-9, 1).map(lambda days: (as_of + dt.timedelta(days=days)).date().isoformat())


def special_rows(
    as_of: dt.datetime, *, aligned: bool = False
) -> st.SearchStrategy[list[SpecialInput]]:
    """
    A store's special rows: closed dates, and rows of every weekly shape (same-day,
    overnight, 24-hour, end-of-day) on the dates around ``as_of``, several on one date.
    """
    closed = special_dates(as_of).map(lambda date: (date, "", ""))
    opened = st.tuples(special_dates(as_of), hours_rows(aligned=aligned)).map(
        lambda pair: (pair[0], pair[1][1], pair[1][2])
    )
    return st.lists(st.one_of(closed, opened), max_size=6)


def polls_with_holes(as_of: dt.datetime) -> st.SearchStrategy[list[tuple[dt.datetime, bool]]]:
    """
    Polls about once an hour over eight days before ``as_of``, with a few holes of up to
    two days and the last poll up to a day before ``as_of``.
    """

    def build(
        jitter: list[int], statuses: list[bool], holes: list[tuple[int, int]], stop: int
    ) -> list[tuple[dt.datetime, bool]]:
        hour_us = HOUR_S * SECOND_US
        out: list[tuple[dt.datetime, bool]] = []
        for index, (shift, active) in enumerate(zip(jitter, statuses, strict=False)):
            hour = 8 * 24 - index
            if hour < stop or any(start <= hour < start + length for start, length in holes):
                continue
            out.append((as_of - dt.timedelta(microseconds=hour * hour_us - shift), active))
        return out or [(as_of - dt.timedelta(hours=stop), True)]

    size = 8 * 24 + 1
    return st.builds(
        build,
        st.lists(st.integers(0, HOUR_S * SECOND_US - 1), min_size=size, max_size=size),
        st.lists(st.booleans(), min_size=size, max_size=size),
        st.lists(st.tuples(st.integers(0, 8 * 24), st.integers(1, 48)), max_size=3),
        st.integers(0, 24),
    )


def max_gaps() -> st.SearchStrategy[int]:
    """
    Maximum gaps in microseconds: round ones, odd ones (a half-microsecond ``G/2``), tiny
    and very large ones.
    """
    hour_us = HOUR_S * SECOND_US
    return st.one_of(
        st.sampled_from([hour_us, 2 * hour_us, 2 * hour_us + 1, 90 * 60 * SECOND_US]),
        st.integers(1, 12 * hour_us),
        st.integers(1, 1_000),
        st.integers(12 * hour_us, 30 * 24 * hour_us),
    )


@st.composite
def special_store_cases(draw: st.DrawFn, *, aligned: bool = False) -> StoreCase:
    """
    A store case with special rows, and polls either random or hourly with holes.
    """
    case = draw(store_cases(aligned=aligned))
    polls = draw(st.one_of(st.just(case.polls), polls_with_holes(case.as_of)))
    if aligned:
        polls = [(at.replace(second=0, microsecond=0), active) for at, active in polls]
    return StoreCase(
        store_id=case.store_id,
        zone_key=case.zone_key,
        as_of=case.as_of,
        hours=case.hours,
        polls=polls,
        special=draw(special_rows(case.as_of, aligned=aligned)),
    )


#: Spellings of a UTC timestamp that SEMANTICS.md accepts.
TIMESTAMP_STYLES = ("bigquery", "iso_z", "iso_offset", "space_offset")


def timestamp_text(at: dt.datetime, style: str) -> str:
    """
    Write an aware instant in one of the accepted spellings, without losing precision.
    """
    at = at.astimezone(UTC)
    fraction = f".{at.microsecond:06d}".rstrip("0") if at.microsecond else ""
    fraction = "" if fraction == "." else fraction
    base = at.strftime("%Y-%m-%d") + "{sep}" + at.strftime("%H:%M:%S") + fraction
    if style == "bigquery":
        return base.format(sep=" ") + " UTC"
    if style == "iso_z":
        return base.format(sep="T") + "Z"
    if style == "iso_offset":
        return base.format(sep="T") + "+00:00"
    if style == "space_offset":
        return base.format(sep=" ") + "+00:00"
    raise ValueError(style)


def span_lists(*, limit: int = 40) -> st.SearchStrategy[list[tuple[int, int]]]:
    """
    Raw spans ``(start, end)`` on a small integer line, some empty or reversed.
    """
    return st.lists(st.tuples(st.integers(0, limit), st.integers(0, limit)), max_size=8)
