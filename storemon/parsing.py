"""
Parsers for the values of the input files and of a few options, strict and fast.

Each parser takes the text of one CSV field and returns a plain value, or raises
``DataError`` with a reason a person can act on. Instants become integers (microseconds
since the Unix epoch, UTC) because the status file has millions of them.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from storemon.errors import DataError
from storemon.model import SECOND_US, to_epoch_us

_INSTANT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?"
    r"(?: ?(UTC|Z)|([+-])(\d{2}):?(\d{2}))?",
    re.IGNORECASE | re.ASCII,
)
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?", re.ASCII)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
#: ``1h30m``-style durations, and ISO 8601 ``PT1H30M`` ones (time part only).
_DURATION = re.compile(
    r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", re.ASCII | re.IGNORECASE
)
# ISO 8601: P, then weeks and days, then T and hours, minutes, seconds (a T needs a part).
_ISO_DURATION = re.compile(
    r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?",
    re.ASCII | re.IGNORECASE,
)
_DURATION_FORMS = (
    "90m, 2h, 1h30m, 45s, 30d, 8w or 1w2d, or ISO 8601 PT2H, PT1H30M, PT45S, P30D or P8W"
)
#: The longest duration read (about 27,000 years: a longer one is surely a mistake, and
#: would not fit a ``timedelta``).
MAX_DURATION_US = 10_000_000 * 24 * 3600 * SECOND_US
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

#: Characters of a bad value quoted in its message; a longer value is cut (a field can be
#: as long as a line, a megabyte).
QUOTED_CHARS = 60


def quoted(text: str) -> str:
    """
    Return ``repr(text)`` for a message, cut after ``QUOTED_CHARS`` characters.
    """
    if len(text) <= QUOTED_CHARS:
        return repr(text)
    return f"{text[:QUOTED_CHARS]!r}... ({len(text)} characters)"


@functools.lru_cache(maxsize=8192)
def _epoch_day(year: int, month: int, day: int) -> int:
    return dt.date(year, month, day).toordinal() - _EPOCH_ORDINAL


_NAIVE_EPOCH = dt.datetime(1970, 1, 1)  # noqa: DTZ001 - subtracted from naive UTC values
_ONE_US = dt.timedelta(microseconds=1)


def _parse_common_instant_us(text: str) -> int | None:
    """
    Parse the one spelling of the real files, ``YYYY-MM-DD HH:MM:SS[.f] UTC``, or give up.

    The status file has millions of these. Once the separators are pinned (so the text can
    only be this grammar, with at most six fraction digits), ``datetime.fromisoformat``
    checks the digits and ranges in C, several times faster than the regular expression,
    which handles every other spelling.
    """
    if (
        23 <= len(text) <= 30
        and text[-4:] == " UTC"
        and text.isascii()
        and text[4] == "-"
        and text[7] == "-"
        and text[10] == " "
        and text[13] == ":"
        and text[16] == ":"
        and (len(text) == 23 or (text[19] == "." and len(text) > 24))
    ):
        try:
            naive = dt.datetime.fromisoformat(text[:-4])
        except ValueError:
            return None
        return (naive - _NAIVE_EPOCH) // _ONE_US
    return None


def parse_instant_us(text: str) -> int:
    """
    Parse a UTC timestamp into microseconds since the Unix epoch.

    Accepts ``2023-01-22 12:09:39.388884 UTC`` with 0 to 6 fraction digits, and ISO 8601
    with ``T``, ``Z``, ``+00:00`` or another offset (converted to UTC). A timestamp
    without any zone is read as UTC, as the column's name says.
    """
    common = _parse_common_instant_us(text)
    if common is not None:
        return common
    match = _INSTANT.fullmatch(text.strip())
    if match is None:
        raise DataError(
            f"cannot read {quoted(text)} as a UTC timestamp "
            "(expected e.g. 2023-01-22 12:09:39.388884 UTC)"
        )
    year, month, day, hour, minute, second, fraction, _utc, sign, off_h, off_m = match.groups()
    try:
        days = _epoch_day(int(year), int(month), int(day))
    except ValueError as error:
        raise DataError(f"{quoted(text)} is not a real date: {error}") from None
    hours, minutes, seconds = int(hour), int(minute), int(second)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise DataError(f"{quoted(text)} has a time of day out of range")
    total_s = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if sign is not None:
        offset_h, offset_m = int(off_h), int(off_m)
        if offset_h > 23 or offset_m > 59:
            raise DataError(f"{quoted(text)} has an offset out of range")
        offset_s = (offset_h * 60 + offset_m) * 60
        total_s += -offset_s if sign == "+" else offset_s
    micros = int(fraction.ljust(6, "0")) if fraction else 0
    return total_s * SECOND_US + micros


def parse_status(text: str) -> bool:
    """
    Parse ``active`` or ``inactive`` in any letter case; return whether active.
    """
    value = text.strip().lower()
    if value == "active":
        return True
    if value == "inactive":
        return False
    raise DataError(f"status must be 'active' or 'inactive', got {quoted(text)}")


def parse_day(text: str) -> int:
    """
    Parse a weekday number, 0 = Monday ... 6 = Sunday.
    """
    value = text.strip()
    if len(value) != 1 or value not in "0123456":
        raise DataError(f"day must be 0 (Monday) to 6 (Sunday), got {quoted(text)}")
    return int(value)


def parse_time_local(text: str, *, allow_midnight_end: bool = False) -> tuple[dt.time, bool]:
    """
    Parse a wall-clock time ``HH:MM[:SS[.ffffff]]``.

    Returns the time and whether it was written as ``24:00[:00]``, the end of the day,
    which only an end time may be.
    """
    value = text.strip()
    match = _TIME.fullmatch(value)
    if match is None:
        raise DataError(f"cannot read {quoted(text)} as a time of day (expected HH:MM:SS)")
    hour_text, minute_text, second_text, fraction = match.groups()
    hour, minute = int(hour_text), int(minute_text)
    second = int(second_text) if second_text else 0
    micros = int(fraction.ljust(6, "0")) if fraction else 0
    if hour == 24 and minute == 0 and second == 0 and micros == 0:
        if not allow_midnight_end:
            raise DataError(f"{quoted(text)} can only be an end time")
        return dt.time(0, 0), True
    if hour > 23 or minute > 59 or second > 59:
        raise DataError(f"{quoted(text)} is out of range for a time of day")
    return dt.time(hour, minute, second, micros), False


def parse_zone_key(text: str) -> str:
    """
    Parse an IANA time-zone name of the bundled tz database (``localtime.zone_for``).
    """
    # Imported here: the tz database's loading is the time-zone file's need alone, not
    # that of every command that parses polls (an ingest of a status file).
    from storemon.localtime import zone_for

    value = text.strip()
    if not value:
        raise DataError("the time zone is empty")
    zone_for(value)  # DataError naming the key and why
    return value


#: Longest store id: real ids are 19 digits or 36-character UUIDs.
MAX_STORE_ID_CHARS = 128
#: First characters that make a spreadsheet read a cell as a formula (CSV injection): an
#: id written in a report must never run as one when the report is opened.
FORMULA_STARTS = "=+-@"
#: Control characters: C0 (NUL included), DEL and C1.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def store_id_problem(text: str) -> str | None:
    """
    Return why ``text`` cannot be a store id as stored, or ``None`` when it can.

    A store id is non-empty, at most ``MAX_STORE_ID_CHARS`` characters, holds no control
    character and does not start with one of ``FORMULA_STARTS``; anything else is kept as
    it is, quotes, commas and any other character included.
    """
    control = _CONTROL.search(text)
    if control is not None:
        return (
            f"store_id {quoted(text)} holds a control character "
            f"(U+{ord(control.group()):04X} at position {control.start() + 1})"
        )
    if not text:
        return "store_id is empty"
    if len(text) > MAX_STORE_ID_CHARS:
        return f"store_id {quoted(text)} is longer than {MAX_STORE_ID_CHARS} characters"
    if text[0] in FORMULA_STARTS:
        return (
            f"store_id {quoted(text)} starts with {text[0]!r}, which spreadsheets read as a formula"
        )
    return None


def parse_store_id(text: str) -> str:
    """
    Parse a store id: surrounding white space is dropped, and the rest is kept as it is
    when it is a valid id (``store_id_problem``).
    """
    # Controls first, on the text as given: strip() would drop a tab or a NEL at the ends.
    value = text if _CONTROL.search(text) else text.strip()
    problem = store_id_problem(value)
    if problem is not None:
        raise DataError(problem)
    return value


def parse_date(text: str) -> dt.date:
    """
    Parse a calendar date written ``YYYY-MM-DD``; only real dates.
    """
    value = text.strip()
    match = _DATE.fullmatch(value)
    if match is None:
        raise DataError(
            f"cannot read {quoted(text)} as a date (expected YYYY-MM-DD, e.g. 2023-12-25)"
        )
    year, month, day = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise DataError(f"{quoted(text)} is not a real date: {error}") from None


def parse_duration_us(text: str) -> int:
    """
    Parse a positive duration into microseconds.

    Accepts whole weeks, days, hours, minutes and seconds in this order, each optional but
    at least one: ``90m``, ``2h``, ``1h30m``, ``45s``, ``30d``, ``8w``, ``1w2d``, and the
    same in ISO 8601, ``PT2H``, ``PT1H30M``, ``PT45S``, ``P30D``, ``P8W``, ``P1DT12H``. A
    day is 24 hours and a week 7 days (durations are elapsed time, not calendar dates).
    Letters may be in any case. Anything else, zero, and more than ``MAX_DURATION_US`` are
    refused with a ``DataError`` that names the accepted forms.
    """
    value = text.strip()
    if value.startswith("-"):
        raise DataError(
            f"a duration must be positive, got {quoted(text)} (write {_DURATION_FORMS})"
        )
    match = _DURATION.fullmatch(value) or _ISO_DURATION.fullmatch(value)
    if match is None or not any(match.groups()):
        raise DataError(f"cannot read {quoted(text)} as a duration (write {_DURATION_FORMS})")
    weeks, days, hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    total_us = ((((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds) * SECOND_US
    if total_us == 0:
        raise DataError(
            f"a duration must be positive, got {quoted(text)} (write {_DURATION_FORMS})"
        )
    if total_us > MAX_DURATION_US:
        raise DataError(
            f"a duration must be at most 10,000,000 days, got {quoted(text)} "
            f"(write {_DURATION_FORMS})"
        )
    return total_us


_AS_OF = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r" ?(?:(UTC|Z)|([+-])(\d{2})(?::?(\d{2}))?)?)?",
    re.IGNORECASE | re.ASCII,
)
#: The forms ``parse_as_of_us`` names when it refuses a value.
AS_OF_FORMS = (
    "2023-01-25 (midnight UTC), 2023-01-25T12:00, 2023-01-25T12:00:00Z, "
    "2023-01-25T07:00:00.5-05:00 or 2023-01-25 12:00:00.388884 UTC"
)


def parse_as_of_us(text: str) -> int:
    """
    Parse a report's "now" as given by a person, into microseconds since the epoch.

    Accepts ISO 8601 in its common forms and the data's own spelling: a date alone
    (midnight UTC that day); a date and ``HH:MM``, ``HH:MM:SS`` or ``HH:MM:SS.f`` (up to six
    fraction digits, after ``.`` or ``,``) separated by ``T`` or a space; then optionally
    ``Z``, ``UTC`` or an offset (``+05:30``, ``+0530``, ``-05``). A time without a zone is UTC.
    """
    value = text.strip()
    match = _AS_OF.fullmatch(value)
    if match is None:
        raise DataError(
            f"cannot read {quoted(text)} as a time; write ISO 8601 such as {AS_OF_FORMS}"
        )
    year, month, day, hour, minute, second, fraction, _utc, sign, off_h, off_m = match.groups()
    if fraction is not None and len(fraction) > 6:
        raise DataError(
            f"{quoted(text)} has {len(fraction)} fraction digits; storemon keeps instants to the "
            "microsecond (at most 6)"
        )
    offset_minutes = 0
    if sign is not None:
        offset_h, offset_m = int(off_h), int(off_m or 0)
        if offset_h > 23 or offset_m > 59:
            raise DataError(f"{quoted(text)} has an offset out of range")
        offset_minutes = (offset_h * 60 + offset_m) * (1 if sign == "+" else -1)
    try:
        at = dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=dt.timezone(dt.timedelta(minutes=offset_minutes)),
        )
    except ValueError as error:
        raise DataError(f"{quoted(text)} is not a real time: {error}") from None
    return to_epoch_us(at)
