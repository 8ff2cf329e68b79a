"""
The report's CSV format: the header, values with two decimals rounded half up once, and
quoting.

It imports nothing of storemon, so that the model (``Report.to_csv``) and the report
builder (``storemon.report.report_line``) both write through it without an import cycle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction

#: The report's header, exactly (SEMANTICS.md, "The numbers"); the measures are named as
#: the fields of ``ReportRow``.
REPORT_HEADER = (
    "store_id",
    "uptime_last_hour",
    "uptime_last_day",
    "uptime_last_week",
    "downtime_last_hour",
    "downtime_last_day",
    "downtime_last_week",
)

#: The three columns a report with a maximum gap adds after the six (SEMANTICS.md,
#: "Unknown time"), named as the fields of ``ReportRow``.
UNKNOWN_COLUMNS = ("unknown_last_hour", "unknown_last_day", "unknown_last_week")

#: The header of a report with a maximum gap: nine columns after the store id.
REPORT_HEADER_WITH_UNKNOWN = REPORT_HEADER + UNKNOWN_COLUMNS


def report_header(*, unknown: bool) -> tuple[str, ...]:
    """
    Return the report's header: with the unknown columns when ``unknown`` (a report with a
    maximum gap), else exactly the six measures of SEMANTICS.md.
    """
    return REPORT_HEADER_WITH_UNKNOWN if unknown else REPORT_HEADER


def format_ratio(numerator: int, denominator: int) -> str:
    """
    Write ``numerator / denominator`` with two decimals, rounding half up once. The text
    depends only on the ratio (the formula does not change when both are multiplied by the
    same number), so exact ticks give the same text as their reduced ``Fraction``.
    """
    # floor(numerator / denominator * 100 + 1/2) in integers: cheaper than a Fraction.
    hundredths = (200 * numerator + denominator) // (2 * denominator)
    text = _WRITTEN.get(hundredths)
    if text is None:
        if hundredths < 0:
            raise ValueError(f"report values are never negative, got {numerator}/{denominator}")
        text = f"{hundredths // 100}.{hundredths % 100:02d}"
        if hundredths < _WRITTEN_BELOW:
            _WRITTEN[hundredths] = text
    return text


#: The text of each number of hundredths written so far, below ``_WRITTEN_BELOW``: a
#: report writes 6 or 9 values per store, and most are among a few thousand (a week has
#: 16,800 hundredths of an hour, an hour 6,000 of a minute); looking one up costs a third
#: of writing it. At most a few MB, whatever is written.
_WRITTEN: dict[int, str] = {}
_WRITTEN_BELOW = 20_000


def format_value(value: Fraction) -> str:
    """
    Write an exact non-negative value with two decimals, rounding half up once.
    """
    return format_ratio(value.numerator, value.denominator)


#: What makes CSV quote a field.
_NEEDS_QUOTES = re.compile('[,"\r\n]')


def csv_line(store_id: str, values: Iterable[str]) -> str:
    """
    Return one report line (no line end): the store id, then its measures as written.
    """
    # Quote the id only when CSV needs it; real ids (digits, UUIDs) never do.
    if _NEEDS_QUOTES.search(store_id):
        store_id = '"' + store_id.replace('"', '""') + '"'
    return ",".join((store_id, *values))


def csv_text(lines: Iterable[str], *, header: tuple[str, ...] = REPORT_HEADER) -> str:
    """
    Return the report's CSV text: the header, then ``lines``, each ended by ``\\n``.
    """
    return ",".join(header) + "\n" + "".join(line + "\n" for line in lines)
