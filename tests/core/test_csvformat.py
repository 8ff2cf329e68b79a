"""
``csvformat.format_ratio``: two decimals rounded half up once, the same text whether it
writes a value for the first time or finds it among those it wrote before.
"""

from __future__ import annotations

import decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from storemon import csvformat


def half_up(numerator: int, denominator: int) -> str:
    with decimal.localcontext() as context:
        context.prec = 60
        exact = decimal.Decimal(numerator) / decimal.Decimal(denominator)
        return str(exact.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP))


@given(
    numerator=st.integers(0, 10**18) | st.integers(0, 30_000),
    denominator=st.sampled_from([1, 3, 120_000_000, 7_200_000_000]) | st.integers(1, 10**12),
)
def test_the_text_is_the_value_rounded_half_up_every_time(numerator: int, denominator: int) -> None:
    first = csvformat.format_ratio(numerator, denominator)
    assert first == half_up(numerator, denominator)
    assert csvformat.format_ratio(numerator, denominator) == first  # found, not written
    assert csvformat.format_value(Fraction(numerator, denominator)) == first


def test_values_around_the_kept_texts_are_written_alike() -> None:
    for hundredths in range(csvformat._WRITTEN_BELOW - 3, csvformat._WRITTEN_BELOW + 3):
        for _ in range(2):
            assert csvformat.format_ratio(hundredths, 100) == half_up(hundredths, 100)
    assert csvformat.format_ratio(5, 1000) == "0.01"
    assert csvformat.format_ratio(4999, 1_000_000) == "0.00"
