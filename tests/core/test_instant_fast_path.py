"""
The fast path for the real files' timestamp spelling agrees with the general parser.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storemon.errors import DataError
from storemon.parsing import _INSTANT, _parse_common_instant_us, parse_instant_us


def _general(text: str) -> int:
    """Parse with the regular expression only, as an independent oracle."""
    match = _INSTANT.fullmatch(text)
    assert match is not None
    year, month, day, hour, minute, second, fraction = match.groups()[:7]
    moment = dt.datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=dt.UTC
    )
    micros = int(fraction.ljust(6, "0")) if fraction else 0
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + micros


@given(
    moment=st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)),
    digits=st.integers(min_value=0, max_value=6),
)
def test_fast_path_equals_general_parser(moment, digits):
    """Every 'YYYY-MM-DD HH:MM:SS[.f] UTC' spelling gives the same instant both ways."""
    fraction = f"{moment.microsecond:06d}"[:digits]
    text = moment.strftime("%Y-%m-%d %H:%M:%S") + (f".{fraction}" if digits else "") + " UTC"
    fast = _parse_common_instant_us(text)
    assert fast is not None
    assert fast == _general(text) == parse_instant_us(text)


@pytest.mark.parametrize(
    "text",
    [
        "２023-01-22 12:09:39 UTC",  # a full-width digit that fromisoformat would accept
        "2023-01-22 12:09:39. UTC",
        "2023-01-22 12:09:39.1234567 UTC",
        "2023-01-22 12:09:39,123 UTC",
        "2023-02-30 12:09:39 UTC",
        "2023-01-22 24:00:00 UTC",
        "2023-01-22 12:0_:39 UTC",
    ],
)
def test_fast_path_refuses_what_the_contract_refuses(text):
    """Texts outside the grammar are not read by the fast path, and the parser rejects them."""
    assert _parse_common_instant_us(text) is None
    with pytest.raises(DataError):
        parse_instant_us(text)
