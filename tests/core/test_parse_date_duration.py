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
FORMS = "90m, 2h, 1h30m or 45s, or ISO 8601 PT2H, PT1H30M or PT45S"


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
    ],
)
def test_parse_duration_reads_the_accepted_forms(text: str, seconds: int) -> None:
    """Hours, minutes and seconds, compact or ISO 8601, in any letter case, become microseconds."""
    assert parse_duration_us(text) == seconds * SECOND_US


@pytest.mark.parametrize(
    "text",
    ["", "2", "h", "PT", "P1D", "P1DT2H", "1.5h", "PT1.5H", "2h 30m", "30m1h", "2 h", "2hours"],
)
def test_parse_duration_refuses_other_forms_naming_the_accepted_ones(text: str) -> None:
    """Any other text raises DataError naming the accepted forms."""
    with pytest.raises(DataError) as raised:
        parse_duration_us(text)
    assert str(raised.value) == f"cannot read {text!r} as a duration (write {FORMS})"


@pytest.mark.parametrize("text", ["0h", "0m0s", "PT0S", "-2h", "-PT2H"])
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
