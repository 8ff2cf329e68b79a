"""
``parse_as_of_us``: the report's "now" as people write it, ISO 8601 in its common forms and
the data's own spelling, to the microsecond.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storemon.errors import DataError
from storemon.model import to_epoch_us
from storemon.parsing import parse_as_of_us


def utc(*parts: int) -> int:
    return to_epoch_us(dt.datetime(*parts, tzinfo=dt.UTC))  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-01-25", utc(2023, 1, 25)),
        ("2023-01-25T12:00", utc(2023, 1, 25, 12)),
        ("2023-01-25 12:00", utc(2023, 1, 25, 12)),
        ("2023-01-25t12:00z", utc(2023, 1, 25, 12)),
        ("2023-01-25T12:00:09", utc(2023, 1, 25, 12, 0, 9)),
        ("2023-01-25T12:00:09Z", utc(2023, 1, 25, 12, 0, 9)),
        ("2023-01-25T12:00:09.5Z", utc(2023, 1, 25, 12, 0, 9, 500_000)),
        ("2023-01-25T12:00:09,25", utc(2023, 1, 25, 12, 0, 9, 250_000)),
        ("2023-01-25T12:00:09.000001+00:00", utc(2023, 1, 25, 12, 0, 9, 1)),
        ("2023-01-25T07:00:00-05:00", utc(2023, 1, 25, 12)),
        ("2023-01-25T17:30+0530", utc(2023, 1, 25, 12)),
        ("2023-01-25T14:00+02", utc(2023, 1, 25, 12)),
        ("2023-01-22 12:09:39.388884 UTC", utc(2023, 1, 22, 12, 9, 39, 388_884)),
        ("2023-01-22 12:09:39 UTC", utc(2023, 1, 22, 12, 9, 39)),
        ("  2023-01-25  ", utc(2023, 1, 25)),
    ],
)
def test_accepted_forms(text: str, expected: int) -> None:
    """Each common form names the instant it says, in UTC unless it carries an offset."""
    assert parse_as_of_us(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("25/01/2023", "cannot read '25/01/2023' as a time; write ISO 8601 such as 2023-01-25"),
        ("yesterday", "cannot read 'yesterday'"),
        ("2023-01-25Z", "cannot read '2023-01-25Z'"),
        ("2023-02-30", "'2023-02-30' is not a real time: day is out of range for month"),
        ("2023-01-25T24:00", "is not a real time"),
        ("2023-01-25T12:00+24:00", "has an offset out of range"),
        ("2023-01-25T12:00:00.1234567", "has 7 fraction digits"),
    ],
)
def test_refused_forms_say_why(text: str, reason: str) -> None:
    """A value in no accepted form is refused with the reason and the forms to write."""
    with pytest.raises(DataError) as caught:
        parse_as_of_us(text)
    assert reason in str(caught.value)


@given(
    st.datetimes(
        min_value=dt.datetime(1971, 1, 1),
        max_value=dt.datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [
                dt.UTC,
                dt.timezone(dt.timedelta(hours=-5)),
                dt.timezone(dt.timedelta(hours=5, minutes=30)),
            ]
        ),
    )
)
def test_isoformat_round_trips(at: dt.datetime) -> None:
    """Python's own ISO 8601 text of any aware instant reads back as that instant."""
    expected = (at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    assert parse_as_of_us(at.isoformat()) == expected
    assert parse_as_of_us(at.isoformat(sep=" ")) == expected
