"""
``parse_date`` (special-hours dates) and ``parse_duration_us`` (the maximum gap option).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storemon.errors import DataError
from storemon.parsing import parse_date, parse_duration_us

SECOND_US = 1_000_000
FORMS = "90m, 2h, 1h30m, 45s, 30d, 8w or 1w2d, or ISO 8601 PT2H, PT1H30M, PT45S, P30D or P8W"
DAY_S = 24 * 3600


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-12-25", dt.date(2023, 12, 25)),
        ("2024-02-29", dt.date(2024, 2, 29)),
        (" 2024-01-01 ", dt.date(2024, 1, 1)),
        ("0001-01-01", dt.date(1, 1, 1)),
    ],
)
def test_parse_date_reads_real_dates(text: str, expected: dt.date) -> None:
    """YYYY-MM-DD texts of real dates become those dates; surrounding spaces are ignored."""
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2023-02-29", "'2023-02-29' is not a real date: day is out of range for month"),
        ("2023-13-01", "'2023-13-01' is not a real date: month must be in 1..12"),
        ("0000-01-01", "'0000-01-01' is not a real date: year 0 is out of range"),
        ("2023-2-1", "cannot read '2023-2-1' as a date (expected YYYY-MM-DD, e.g. 2023-12-25)"),
        ("20231225", "cannot read '20231225' as a date (expected YYYY-MM-DD, e.g. 2023-12-25)"),
        ("", "cannot read '' as a date (expected YYYY-MM-DD, e.g. 2023-12-25)"),
        ("2023-12-25T00:00", "cannot read '2023-12-25T00:00' as a date"),
        ("25/12/2023", "cannot read '25/12/2023' as a date"),
        ("２０２３-12-25", "cannot read"),  # full-width digits are not ASCII digits
    ],
)
def test_parse_date_refuses_other_texts_with_a_reason(text: str, reason: str) -> None:
    """Impossible dates and other spellings raise DataError saying what is wrong."""
    with pytest.raises(DataError) as raised:
        parse_date(text)
    assert str(raised.value).startswith(reason)


@given(st.dates())
def test_parse_date_reads_every_date_it_is_given_as_iso(date: dt.date) -> None:
    """Every calendar date written as ISO 8601 reads back as itself."""
    assert parse_date(date.isoformat()) == date


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90m", 90 * 60),
        ("2h", 2 * 3600),
        ("1h30m", 90 * 60),
        ("45s", 45),
        ("1h30m45s", 3600 + 30 * 60 + 45),
        ("2h15s", 2 * 3600 + 15),
        ("PT2H", 2 * 3600),
        ("PT1H30M", 90 * 60),
        ("PT45S", 45),
        ("PT90M", 90 * 60),
        ("pt2h", 2 * 3600),
        ("2H", 2 * 3600),
        (" 2h ", 2 * 3600),
        ("1h90m", 150 * 60),
        ("30d", 30 * DAY_S),
        ("8w", 8 * 7 * DAY_S),
        ("1w2d", 9 * DAY_S),
        ("2d12h", 2 * DAY_S + 12 * 3600),
        ("1w1d1h1m1s", 8 * DAY_S + 3661),
        ("8W", 8 * 7 * DAY_S),
        ("P30D", 30 * DAY_S),
        ("P8W", 8 * 7 * DAY_S),
        ("P1D", DAY_S),
        ("P1DT2H", DAY_S + 2 * 3600),
        ("p1dt30m", DAY_S + 30 * 60),
    ],
)
def test_parse_duration_reads_the_accepted_forms(text: str, seconds: int) -> None:
    """Hours, minutes and seconds, compact or ISO 8601, in any letter case, become microseconds."""
    assert parse_duration_us(text) == seconds * SECOND_US


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2",
        "h",
        "PT",
        "P",
        "P1DT",
        "PT1D",
        "1.5h",
        "PT1.5H",
        "2h 30m",
        "30m1h",
        "2 h",
        "2hours",
        "1d1w",
        "8 w",
        "2weeks",
        "P2H",
        "1.5d",
    ],
)
def test_parse_duration_refuses_other_forms_naming_the_accepted_ones(text: str) -> None:
    """Any other text raises DataError naming the accepted forms."""
    with pytest.raises(DataError) as raised:
        parse_duration_us(text)
    assert str(raised.value) == f"cannot read {text!r} as a duration (write {FORMS})"


@pytest.mark.parametrize("text", ["0h", "0m0s", "PT0S", "-2h", "-PT2H", "0w", "P0D", "-8w"])
def test_parse_duration_refuses_zero_and_negative_durations(text: str) -> None:
    """Zero and negative durations are refused: a maximum gap must be positive."""
    with pytest.raises(DataError) as raised:
        parse_duration_us(text)
    assert str(raised.value) == f"a duration must be positive, got {text!r} (write {FORMS})"


@given(
    st.tuples(st.integers(0, 999), st.integers(0, 999), st.integers(0, 999)).filter(any),
    st.booleans(),
)
def test_parse_duration_adds_up_its_parts(parts: tuple[int, int, int], iso: bool) -> None:
    """Any non-zero hours, minutes and seconds parse to their total, compact or ISO 8601."""
    hours, minutes, seconds = parts
    units = ("H", "M", "S") if iso else ("h", "m", "s")
    text = "".join(f"{value}{unit}" for value, unit in zip(parts, units, strict=True) if value)
    text = ("PT" + text) if iso else text
    assert parse_duration_us(text) == ((hours * 60 + minutes) * 60 + seconds) * SECOND_US


@given(st.tuples(*(st.integers(0, 99) for _ in range(5))).filter(any), st.booleans())
def test_parse_duration_adds_up_weeks_and_days_too(
    parts: tuple[int, int, int, int, int], iso: bool
) -> None:
    """Weeks, days, hours, minutes and seconds parse to their total (a day 24 h, a week
    7 days), compact or ISO 8601 (P..W..DT..H..M..S)."""
    weeks, days, hours, minutes, seconds = parts
    if iso:
        date = "".join(f"{v}{u}" for v, u in zip(parts[:2], "WD", strict=True) if v)
        time = "".join(f"{v}{u}" for v, u in zip(parts[2:], "HMS", strict=True) if v)
        text = "P" + date + ("T" + time if time else "")
    else:
        text = "".join(f"{v}{u}" for v, u in zip(parts, "wdhms", strict=True) if v)
    expected = dt.timedelta(
        weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds
    ) // dt.timedelta(microseconds=1)
    assert parse_duration_us(text) == expected


def test_parse_duration_refuses_absurdly_long_durations() -> None:
    """More than 10,000,000 days is refused (an instant minus it would not be a date)."""
    assert parse_duration_us("10000000d") == 10_000_000 * DAY_S * SECOND_US
    with pytest.raises(DataError, match="at most 10,000,000 days"):
        parse_duration_us("10000001d")
    with pytest.raises(DataError, match="at most 10,000,000 days"):
        parse_duration_us("99999999999999999w")
