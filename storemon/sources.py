"""
Reading the CSV inputs (status, business hours, time zones, special hours): headers,
rows, and rejected rows with their reasons.

The readers work on raw byte lines so that one undecodable line is rejected on its own
instead of failing the file, and so that ingestion can count byte offsets. Each good row
becomes a plain tuple; each bad row becomes a ``Rejected`` naming the file, line, column
and reason, with the original line kept so nothing is lost. A missing column or an
unreadable header refuses the whole file (``SourceError``).

Accepted: a UTF-8 BOM, CRLF or LF line ends, no final newline, any column order (extra
columns are ignored), header names in any letter case, ``day`` or ``dayOfWeek``, blank
lines (skipped).

Refused row by row: a store id that ``parsing.store_id_problem`` refuses, a poll later
than ``latest_at_us`` (the reading machine's clock plus a tolerance, when given), a line
longer than the line limit (``storemon.lines``), and every line of a record whose quoted
field runs on past the end of its line (no field of these files holds a line feed, so
such a record is broken; reading its lines one by one would store its tail as a row).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs

from storemon.errors import DataError, SourceError
from storemon.lines import MAX_LINE_BYTES, LineBuffer, LongLine
from storemon.model import (
    HoursRecord,
    HoursRow,
    PollColumns,
    PollRecord,
    Rejected,
    SpecialHoursRecord,
    SpecialHoursRow,
    ZoneRecord,
    from_epoch_us,
)
from storemon.parsing import (
    parse_date,
    parse_day,
    parse_instant_us,
    parse_status,
    parse_store_id,
    parse_time_local,
    parse_zone_key,
)

_BOM = b"\xef\xbb\xbf"


class SourceKind(enum.Enum):
    """
    The inputs, with their columns; aliases map other spellings of a column name.

    Every file but the status file is a snapshot (``snapshot``): each file replaces what
    was stored of its kind, so ingestion guards it against shrinking the stored rows.
    ``STORE_HOURS`` is no file: it is the body of ``PUT /api/stores/{id}/hours``.
    """

    STATUS = ("status", ("store_id", "status", "timestamp_utc"), False)
    HOURS = ("business_hours", ("store_id", "day", "start_time_local", "end_time_local"))
    ZONES = ("timezones", ("store_id", "timezone_str"))
    SPECIAL = ("special_hours", ("store_id", "date", "start_time_local", "end_time_local"))
    #: One store's weekly rows, sent to ``PUT /api/stores/{id}/hours``: the URL names the
    #: store, so the rows have no store id (each row is an ``HoursRow``).
    STORE_HOURS = ("store_hours", ("day", "start_time_local", "end_time_local"), False)

    def __init__(self, label: str, columns: tuple[str, ...], snapshot: bool = True) -> None:
        self.label = label
        self.columns = columns
        #: Whether a file of this kind replaces every stored row of its kind.
        self.snapshot = snapshot


_ALIASES = {
    "dayofweek": "day",
    "day_of_week": "day",
    "timestamp": "timestamp_utc",
    "timezone": "timezone_str",
}
#: Characters of a wrong header quoted in its message.
_FOUND_CHARS = 200


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8").rstrip("\r\n")


def _split(line: str) -> list[str]:
    if '"' in line:
        return next(csv.reader([line]))
    return line.split(",")


def read_header(kind: SourceKind, raw: bytes | LongLine | None, source: str) -> dict[str, int]:
    """
    Map each required column of ``kind`` to its index in the header line.

    Raises:
        SourceError: the header is missing, too long, unreadable or lacks a column.
    """
    if raw is None:
        raise SourceError(f"{source}: the file is empty; expected a header line")
    if isinstance(raw, LongLine):
        raise SourceError(
            f"{source}:1: the header line is {raw.size} bytes long, over the limit of "
            f"{raw.limit} bytes (expected {kind.label} columns {','.join(kind.columns)})"
        )
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    try:
        names = [name.strip().lower() for name in _split(_decode(raw))]
    except UnicodeDecodeError:
        raise SourceError(f"{source}:1: the header is not UTF-8 text") from None
    names = [_ALIASES.get(name, name) for name in names]
    positions: dict[str, int] = {}
    for column in kind.columns:
        if column not in names:
            expected = ",".join(kind.columns)
            found = ",".join(names)
            if len(found) > _FOUND_CHARS:
                found = f"{found[:_FOUND_CHARS]}... ({len(names)} columns)"
            raise SourceError(
                f"{source}:1: column {column}: missing from the header "
                f"(expected {kind.label} columns {expected}; found {found})"
            )
        if names.count(column) > 1:
            raise SourceError(f"{source}:1: column {column}: appears twice in the header")
        positions[column] = names.index(column)
    positions[""] = len(names)  # the field count every row must have
    return positions


_Parser = Callable[[list[str]], Any]
_STATUS_WORDS = {"active": True, "inactive": False}

#: The first and last character of a store id that needs no further check: printable
#: ASCII but a space (the first one not a formula start, ``= + - @``); anything else
#: (spaces to drop, controls, other characters at the ends) goes to ``parse_store_id``.
_ID_FIRST = r"[\x21-\x2a\x2e-\x3c\x3e\x3f\x41-\x7e]"
_ID_LAST = r"[\x21-\x7e]"
_PLAIN_ID = re.compile(f"{_ID_FIRST}(?:[^\\x00-\\x1f\\x7f-\\x9f]{{0,126}}{_ID_LAST})?")


class _ColumnError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        self.column = column
        self.reason = reason


def _column(name: str, parse: Callable[[str], Any], text: str) -> Any:
    try:
        return parse(text)
    except DataError as error:
        raise _ColumnError(name, str(error)) from None


def _store_id(text: str) -> str:
    # Most ids are plain (digits, UUIDs): one C-level match, then kept as they are.
    if _PLAIN_ID.fullmatch(text) is not None:
        return text
    return _column("store_id", parse_store_id, text)  # type: ignore[no-any-return]


#: How much later than the reading machine's clock a poll may be: clocks differ a little,
#: and a poll an hour ahead is still believable; one dated 9999 is not.
DEFAULT_FUTURE_TOLERANCE = dt.timedelta(hours=1)


def future_reason(at_us: int, latest_at_us: int) -> str:
    """
    Why a poll at ``at_us`` is refused when the latest believable instant is
    ``latest_at_us`` (the reading machine's clock plus a tolerance).
    """
    return (
        f"{from_epoch_us(at_us):%Y-%m-%d %H:%M:%S} UTC is in the future: later than "
        f"{from_epoch_us(latest_at_us):%Y-%m-%d %H:%M:%S} UTC, this machine's clock plus "
        "the tolerance"
    )


def _status_parser(at: dict[str, int], latest_at_us: int | None) -> _Parser:
    # The hot loop of ingestion: plain values take a shortcut, anything else goes through
    # the full parser, which gives the reason when it is bad.
    id_at, status_at, instant_at = at["store_id"], at["status"], at["timestamp_utc"]

    def parse(fields: list[str]) -> PollRecord:
        store_id = _store_id(fields[id_at])
        active = _STATUS_WORDS.get(fields[status_at])
        if active is None:
            active = _column("status", parse_status, fields[status_at])
        try:
            at_us = parse_instant_us(fields[instant_at])
        except DataError as error:
            raise _ColumnError("timestamp_utc", str(error)) from None
        if latest_at_us is not None and at_us > latest_at_us:
            raise _ColumnError("timestamp_utc", future_reason(at_us, latest_at_us))
        return store_id, at_us, active

    return parse


def _end_time(text: str) -> tuple[Any, bool]:
    return parse_time_local(text, allow_midnight_end=True)


#: Distinct (day, start, end) texts remembered while reading one hours file; real files
#: repeat a few hundred, and the bound keeps memory flat whatever the file.
_HOURS_CACHE_SIZE = 4096


def _hours_row_parser(at: dict[str, int]) -> Callable[[list[str]], HoursRow]:
    day_at, start_at, end_at = at["day"], at["start_time_local"], at["end_time_local"]
    # Parsing and validating a row costs more than the rest of reading it, and most rows
    # repeat another's day and times: parse each distinct one once (the same HoursRow).
    made: dict[tuple[str, str, str], HoursRow] = {}

    def parse(fields: list[str]) -> HoursRow:
        key = (fields[day_at], fields[start_at], fields[end_at])
        row = made.get(key)
        if row is None:
            day = _column("day", parse_day, key[0])
            start, _ = _column("start_time_local", parse_time_local, key[1])
            end, end_is_midnight = _column("end_time_local", _end_time, key[2])
            row = HoursRow(day, start, end, end_is_midnight)
            if len(made) >= _HOURS_CACHE_SIZE:
                made.clear()
            made[key] = row
        return row

    return parse


def _hours_parser(at: dict[str, int], _latest_at_us: int | None) -> _Parser:
    id_at = at["store_id"]
    hours_row = _hours_row_parser(at)

    def parse(fields: list[str]) -> HoursRecord:
        return _store_id(fields[id_at]), hours_row(fields)

    return parse


def _store_hours_parser(at: dict[str, int], _latest_at_us: int | None) -> _Parser:
    return _hours_row_parser(at)


def _zones_parser(at: dict[str, int], _latest_at_us: int | None) -> _Parser:
    def parse(fields: list[str]) -> ZoneRecord:
        return (
            _store_id(fields[at["store_id"]]),
            _column("timezone_str", parse_zone_key, fields[at["timezone_str"]]),
        )

    return parse


def _special_parser(at: dict[str, int], _latest_at_us: int | None) -> _Parser:
    id_at, date_at = at["store_id"], at["date"]
    start_at, end_at = at["start_time_local"], at["end_time_local"]

    def parse(fields: list[str]) -> SpecialHoursRecord:
        store_id = _store_id(fields[id_at])
        date = _column("date", parse_date, fields[date_at])
        start_text, end_text = fields[start_at].strip(), fields[end_at].strip()
        if not start_text and not end_text:
            return store_id, SpecialHoursRow(date)  # closed all that date
        if not start_text or not end_text:
            empty = "start_time_local" if not start_text else "end_time_local"
            raise _ColumnError(
                empty,
                "one time is empty: give both times, or neither for closed all that date",
            )
        start, _ = _column("start_time_local", parse_time_local, start_text)
        end, end_is_midnight = _column("end_time_local", _end_time, end_text)
        return store_id, SpecialHoursRow(date, start, end, end_is_midnight)

    return parse


_PARSERS: dict[SourceKind, Callable[[dict[str, int], int | None], _Parser]] = {
    SourceKind.STATUS: _status_parser,
    SourceKind.HOURS: _hours_parser,
    SourceKind.ZONES: _zones_parser,
    SourceKind.SPECIAL: _special_parser,
    SourceKind.STORE_HOURS: _store_hours_parser,
}


# Records whose quoted field runs on past the end of a line.

#: A record whose quoted field runs on past this many bytes is taken to end there (the
#: next line is read afresh): one stray quote must not swallow the rest of a file.
MAX_RECORD_BYTES = MAX_LINE_BYTES


@attrs.frozen
class OpenRecord:
    """
    A record whose quoted field was still open at the end of the last line read.
    """

    #: The line the record starts on.
    line: int
    #: Its bytes so far, each line end counted as one byte.
    size: int


def _ends_in_quotes(line: bytes, in_quotes: bool) -> bool:
    """
    Return whether a quoted field is open at the end of ``line`` (CSV quoting as Python's
    ``csv`` reads it: a quote opens a field only at the field's start, ``""`` inside one
    is a quote, and after the closing quote the field runs on to the next comma).
    """
    position = 0
    if not in_quotes and line.startswith(b'"'):
        in_quotes, position = True, 1
    while True:
        if in_quotes:
            close = line.find(b'"', position)
            if close < 0:
                return True
            if line.startswith(b'"', close + 1):
                position = close + 2
                continue
            in_quotes, position = False, close + 1
        comma = line.find(b",", position)
        if comma < 0:
            return False
        position = comma + 1
        if line.startswith(b'"', position):
            in_quotes, position = True, position + 1


def record_after(state: OpenRecord | None, raw: bytes, line_number: int) -> OpenRecord | None:
    """
    Return the record left open after line ``line_number`` (``raw``, its line end
    optional), given the one open before it: ``None`` when every record has ended.
    """
    if state is None and b'"' not in raw:
        return None
    line = raw.rstrip(b"\r\n")
    if state is None:
        return OpenRecord(line_number, len(line) + 1) if _ends_in_quotes(line, False) else None
    size = state.size + len(line) + 1
    if (b'"' in line and not _ends_in_quotes(line, True)) or size > MAX_RECORD_BYTES:
        return None
    return OpenRecord(state.line, size)


def record_after_chunk(
    state: OpenRecord | None, chunk: bytes, first_line: int
) -> OpenRecord | None:
    """
    Return the record left open after a chunk of whole lines numbered from ``first_line``
    (what ``parse_lines`` of the chunk ends with), without parsing it: quick when the
    chunk holds no quote and no record is open.
    """
    if state is None and b'"' not in chunk:
        return None
    lines = chunk.split(b"\n")
    if not lines[-1]:
        lines.pop()
    for number, raw in enumerate(lines, first_line):
        state = record_after(state, raw, number)
    return state


_RUNS_ON = (
    "a quoted field runs on past the end of this line; the record is rejected whole, "
    "with every line it spans"
)


class _LineReader:
    """
    Read lines one by one into records and rejects, following records that span lines.
    """

    def __init__(
        self,
        kind: SourceKind,
        source: str,
        positions: dict[str, int],
        *,
        open_record: OpenRecord | None = None,
        latest_at_us: int | None = None,
    ) -> None:
        self.source = source
        self.parse = _PARSERS[kind](positions, latest_at_us)
        self.width = positions[""]
        #: The record still open after the last line read.
        self.open_record = open_record

    def read(self, raw: bytes, line_number: int) -> Any:
        """
        Return the line's record, its ``Rejected``, or ``None`` for a blank line.
        """
        opened = self.open_record
        self.open_record = record_after(opened, raw, line_number)
        if opened is not None or self.open_record is not None:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            reason = (
                _RUNS_ON
                if opened is None
                else f"continues the quoted field of the record that starts on line "
                f"{opened.line}; the record is rejected whole"
            )
            return Rejected(self.source, line_number, None, reason, text)
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            return Rejected(self.source, line_number, None, "the line is not UTF-8 text", text)
        if not line.strip():
            return None
        if '"' in line:
            try:
                fields = next(csv.reader([line]))
            except csv.Error as error:
                return Rejected(self.source, line_number, None, f"not a CSV line: {error}", line)
        else:
            fields = line.split(",")
        if len(fields) != self.width:
            reason = f"expected {self.width} fields, found {len(fields)}"
            return Rejected(self.source, line_number, None, reason, line)
        try:
            return self.parse(fields)
        except _ColumnError as error:
            return Rejected(self.source, line_number, error.column, error.reason, line)

    def read_long(self, line: LongLine, line_number: int) -> Rejected:
        """
        Return the ``Rejected`` of a line over the length limit (it ends any open record).
        """
        self.open_record = None
        reason = f"the line is {line.size} bytes long, over the limit of {line.limit} bytes"
        text = line.head.decode("utf-8", "replace").rstrip("\r\n")
        return Rejected(self.source, line_number, None, reason, text)


def read_rows(
    kind: SourceKind,
    raw_lines: Iterable[bytes],
    source: str,
    *,
    positions: dict[str, int] | None = None,
    first_line: int = 1,
    latest_at_us: int | None = None,
) -> Iterator[Any]:
    """
    Yield each good record of a source, and a ``Rejected`` for each bad line.

    Without ``positions`` the first line is read as the header. Blank lines are skipped.
    With ``latest_at_us``, a poll after that instant is rejected.

    Raises:
        SourceError: the header is missing or lacks a column.
    """
    lines = iter(raw_lines)
    line_number = first_line - 1
    if positions is None:
        positions = read_header(kind, next(lines, None), source)
        line_number += 1
    reader = _LineReader(kind, source, positions, latest_at_us=latest_at_us)
    for raw in lines:
        line_number += 1
        item = reader.read(raw, line_number)
        if item is not None:
            yield item


@attrs.define
class Batch:
    """
    The parsed rows of one chunk of a source.
    """

    records: Sequence[Any]
    rejected: list[Rejected]
    #: The record still open at the end of the chunk, which the next chunk goes on with.
    open_record: OpenRecord | None = None


_NAIVE_EPOCH = dt.datetime(1970, 1, 1)  # noqa: DTZ001 - subtracted from naive UTC values
_ONE_US = dt.timedelta(microseconds=1)
_FAST_STATUS_COLUMNS = {
    # A plain store id (see ``_PLAIN_ID``) without quotes or commas.
    "store_id": (
        r"([\x21\x23-\x2a\x2e-\x3c\x3e\x3f\x41-\x7e]"
        r'(?:[^,"\x00-\x1f\x7f-\x9f]{0,126}[\x21\x23-\x2b\x2d-\x7e])?)'
    ),
    "status": r"(active|inactive)",
    "timestamp_utc": r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?) UTC",
}


def _fast_status_pattern(positions: dict[str, int]) -> re.Pattern[str] | None:
    """
    A pattern matching whole status lines in their most common spelling, or ``None``.

    Only headers with exactly the three columns get one; anything else uses ``read_rows``.
    """
    if positions[""] != len(SourceKind.STATUS.columns):
        return None
    order = sorted(SourceKind.STATUS.columns, key=positions.__getitem__)
    body = ",".join(_FAST_STATUS_COLUMNS[name] for name in order)
    return re.compile(f"^{body}\\r?$", re.MULTILINE | re.ASCII)


#: A chunk of status rows as columns: store ids, instants and whether active.
StatusColumns = tuple[Sequence[str], list[int], list[bool]]

_ACTIVE = {"active": True, "inactive": False}


def fast_status_columns(
    kind: SourceKind,
    chunk: bytes | LongLine,
    *,
    positions: dict[str, int],
    open_record: OpenRecord | None = None,
    latest_at_us: int | None = None,
) -> StatusColumns | None:
    """
    Parse a chunk of status lines in one regular-expression pass, as columns; ``None``
    unless every line is in the common spelling and none is in the future (the chunk is
    then read line by line, by ``parse_lines``, which says why).
    """
    if (
        kind is not SourceKind.STATUS
        or open_record is not None
        or isinstance(chunk, LongLine)
        or (pattern := _fast_status_pattern(positions)) is None
    ):
        return None
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        return None
    matches = pattern.findall(text)
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if len(matches) != lines:
        return None
    if not matches:
        return [], [], []
    groups = sorted(SourceKind.STATUS.columns, key=positions.__getitem__)

    def column(name: str) -> Iterator[str]:
        # Not zip(*matches): a call with one argument per line costs five times as much.
        return map(operator.itemgetter(groups.index(name)), matches)

    parse = dt.datetime.fromisoformat
    try:
        instants = [(parse(stamp) - _NAIVE_EPOCH) // _ONE_US for stamp in column("timestamp_utc")]
    except ValueError:  # an impossible date or time: let the line reader say which
        return None
    if latest_at_us is not None and max(instants) > latest_at_us:
        return None
    actives = list(map(_ACTIVE.__getitem__, column("status")))
    return list(column("store_id")), instants, actives


def parse_lines(
    kind: SourceKind,
    chunk: bytes | LongLine,
    source: str,
    *,
    positions: dict[str, int],
    first_line: int,
    open_record: OpenRecord | None = None,
    latest_at_us: int | None = None,
) -> Batch:
    """
    Parse a chunk of whole lines numbered from ``first_line`` (or one line over the length
    limit): its records and rejects, and the record it leaves open.

    Equivalent to ``read_rows`` on the same lines, but much faster on status lines: a chunk
    whose lines all have the common spelling is parsed in one regular-expression pass.
    ``open_record`` is the record the chunk before left open (``Batch.open_record``).
    """
    reader = _LineReader(
        kind, source, positions, open_record=open_record, latest_at_us=latest_at_us
    )
    if isinstance(chunk, LongLine):
        return Batch([], [reader.read_long(chunk, first_line)])
    fast = fast_status_columns(
        kind, chunk, positions=positions, open_record=open_record, latest_at_us=latest_at_us
    )
    if fast is not None:
        return Batch(PollColumns(*fast), [])
    records: list[Any] = []
    rejected: list[Rejected] = []
    lines = chunk.split(b"\n")
    if not lines[-1]:
        lines.pop()
    for line_number, raw in enumerate(lines, first_line):
        item = reader.read(raw, line_number)
        if isinstance(item, Rejected):
            rejected.append(item)
        elif item is not None:
            records.append(item)
    return Batch(records, rejected, reader.open_record)


def read_batches(
    kind: SourceKind,
    lines: LineBuffer,
    source: str,
    *,
    positions: dict[str, int] | None = None,
    latest_at_us: int | None = None,
    open_record: OpenRecord | None = None,
) -> Iterator[Batch]:
    """
    Read a source in chunks of whole lines; yield each chunk's records and rejects.

    Without ``positions`` the next line is read as the header. Line numbers follow
    ``lines.lines``. With ``latest_at_us``, a poll after that instant is rejected.
    ``open_record``: the record left open before the first line (a read that starts in
    the middle of a file).

    Raises:
        SourceError: the header is missing or lacks a column.
    """
    if positions is None:
        positions = read_header(kind, lines.readline() or None, source)
    for first_line, chunk in lines.chunks():
        batch = parse_lines(
            kind,
            chunk,
            source,
            positions=positions,
            first_line=first_line,
            open_record=open_record,
            latest_at_us=latest_at_us,
        )
        open_record = batch.open_record
        yield batch


# The same rows as JSON objects: pushed polls as JSON lines, one store's hours as a list.

#: How a JSON value's type is named in a message.
_JSON_TYPES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "true or false",
    int: "a number",
    float: "a number",
    type(None): "null",
}


def _json_type(value: object) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


class ObjectReader:
    """
    Read JSON objects whose keys are a kind's columns into records and rejects, with the
    file reader's own parsers: the same store-id guard, instant spellings, future limit,
    statuses, days, times and zones, the same reasons.

    Keys are matched as header names are (any letter case, the same aliases such as
    ``day_of_week``); other keys are ignored, as extra columns are. Values are strings,
    except a day, which may also be a whole number (``0`` for Monday); a store id must be
    a string (real ids have 19 digits, more than a JSON number keeps exactly).
    """

    def __init__(self, kind: SourceKind, source: str, *, latest_at_us: int | None = None):
        self.kind = kind
        self.source = source
        positions = {column: index for index, column in enumerate(kind.columns)}
        positions[""] = len(kind.columns)
        self.parse = _PARSERS[kind](positions, latest_at_us)

    def read(self, value: object, line: int, text: str) -> Any:
        """
        Return the record of one decoded JSON value, or its ``Rejected`` (at ``line``,
        with ``text`` as the row kept).
        """
        if not isinstance(value, dict):
            expected = ", ".join(self.kind.columns)
            reason = f"expected a JSON object with keys {expected}, found {_json_type(value)}"
            return Rejected(self.source, line, None, reason, text)
        named: dict[str, object] = {}
        for key, field in value.items():
            name = str(key).strip().lower()
            named[_ALIASES.get(name, name)] = field
        fields: list[str] = []
        for column in self.kind.columns:
            if column not in named:
                return Rejected(self.source, line, column, "missing from the object", text)
            field = named[column]
            if column == "day" and isinstance(field, int) and not isinstance(field, bool):
                field = str(field)
            if not isinstance(field, str):
                reason = f"must be a JSON string, found {_json_type(field)}"
                return Rejected(self.source, line, column, reason, text)
            fields.append(field)
        try:
            return self.parse(fields)
        except _ColumnError as error:
            return Rejected(self.source, line, error.column, error.reason, text)

    def read_line(self, raw: bytes, line: int) -> Any:
        """
        Return the record of one JSON line, its ``Rejected``, or ``None`` for a blank line.
        """
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            return Rejected(self.source, line, None, "the line is not UTF-8 text", text)
        if not text.strip():
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            reason = f"not a JSON line: {error.msg} (character {error.colno})"
            return Rejected(self.source, line, None, reason, text)
        except RecursionError:
            return Rejected(self.source, line, None, "not a JSON line: nested too deep", text)
        return self.read(value, line, text)


def read_json_lines(
    kind: SourceKind,
    lines: LineBuffer,
    source: str,
    *,
    latest_at_us: int | None = None,
) -> Iterator[Batch]:
    """
    Read JSON lines (one object per line, keys as ``ObjectReader`` takes them) in chunks
    of whole lines; yield each chunk's records and rejects, as ``read_batches`` does for
    CSV. Line numbers follow ``lines.lines``; blank lines are skipped; a line over the
    limit is rejected unread.
    """
    reader = ObjectReader(kind, source, latest_at_us=latest_at_us)
    for first_line, chunk in lines.chunks():
        records: list[Any] = []
        rejected: list[Rejected] = []
        if isinstance(chunk, LongLine):
            reason = f"the line is {chunk.size} bytes long, over the limit of {chunk.limit} bytes"
            text = chunk.head.decode("utf-8", "replace").rstrip("\r\n")
            rejected.append(Rejected(source, first_line, None, reason, text))
            yield Batch(records, rejected)
            continue
        parts = chunk.split(b"\n")
        if not parts[-1]:
            parts.pop()
        for line_number, raw in enumerate(parts, first_line):
            item = reader.read_line(raw, line_number)
            if isinstance(item, Rejected):
                rejected.append(item)
            elif item is not None:
                records.append(item)
        yield Batch(records, rejected)
