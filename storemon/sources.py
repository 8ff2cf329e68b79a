"""
Reading the three CSV inputs: headers, rows, and rejected rows with their reasons.

The readers work on raw byte lines so that one undecodable line is rejected on its own
instead of failing the file, and so that ingestion can count byte offsets. Each good row
becomes a plain tuple; each bad row becomes a ``Rejected`` naming the file, line, column
and reason, with the original line kept so nothing is lost. A missing column or an
unreadable header refuses the whole file (``SourceError``).

Accepted: a UTF-8 BOM, CRLF or LF line ends, no final newline, any column order (extra
columns are ignored), header names in any letter case, ``day`` or ``dayOfWeek``, blank
lines (skipped).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from storemon.errors import DataError, SourceError
from storemon.lines import LineBuffer
from storemon.model import HoursRecord, HoursRow, PollRecord, Rejected, ZoneRecord
from storemon.parsing import (
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
    The three inputs, with their columns; aliases map other spellings of a column name.
    """

    STATUS = ("status", ("store_id", "status", "timestamp_utc"))
    HOURS = ("business_hours", ("store_id", "day", "start_time_local", "end_time_local"))
    ZONES = ("timezones", ("store_id", "timezone_str"))

    def __init__(self, label: str, columns: tuple[str, ...]) -> None:
        self.label = label
        self.columns = columns


_ALIASES = {"dayofweek": "day", "timestamp": "timestamp_utc", "timezone": "timezone_str"}


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8").rstrip("\r\n")


def _split(line: str) -> list[str]:
    if '"' in line:
        return next(csv.reader([line]))
    return line.split(",")


def read_header(kind: SourceKind, raw: bytes | None, source: str) -> dict[str, int]:
    """
    Map each required column of ``kind`` to its index in the header line.

    Raises:
        SourceError: the header is missing, unreadable or lacks a column.
    """
    if raw is None:
        raise SourceError(f"{source}: the file is empty; expected a header line")
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
            raise SourceError(
                f"{source}:1: column {column}: missing from the header "
                f"(expected {kind.label} columns {expected}; found {','.join(names)})"
            )
        if names.count(column) > 1:
            raise SourceError(f"{source}:1: column {column}: appears twice in the header")
        positions[column] = names.index(column)
    positions[""] = len(names)  # the field count every row must have
    return positions


_Parser = Callable[[list[str]], Any]
_STATUS_WORDS = {"active": True, "inactive": False}


class _ColumnError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        self.column = column
        self.reason = reason


def _column(name: str, parse: Callable[[str], Any], text: str) -> Any:
    try:
        return parse(text)
    except DataError as error:
        raise _ColumnError(name, str(error)) from None


def _status_parser(at: dict[str, int]) -> _Parser:
    # The hot loop of ingestion: plain values take a shortcut, anything else goes through
    # the full parser, which gives the reason when it is bad.
    id_at, status_at, instant_at = at["store_id"], at["status"], at["timestamp_utc"]

    def parse(fields: list[str]) -> PollRecord:
        store_id = fields[id_at]
        if not store_id or store_id[0] == " " or store_id[-1] == " ":
            store_id = _column("store_id", parse_store_id, store_id)
        active = _STATUS_WORDS.get(fields[status_at])
        if active is None:
            active = _column("status", parse_status, fields[status_at])
        try:
            at_us = parse_instant_us(fields[instant_at])
        except DataError as error:
            raise _ColumnError("timestamp_utc", str(error)) from None
        return store_id, at_us, active

    return parse


def _end_time(text: str) -> tuple[Any, bool]:
    return parse_time_local(text, allow_midnight_end=True)


#: Distinct (day, start, end) texts remembered while reading one hours file; real files
#: repeat a few hundred, and the bound keeps memory flat whatever the file.
_HOURS_CACHE_SIZE = 4096


def _hours_parser(at: dict[str, int]) -> _Parser:
    id_at, day_at = at["store_id"], at["day"]
    start_at, end_at = at["start_time_local"], at["end_time_local"]
    # Parsing and validating a row costs more than the rest of reading it, and most rows
    # repeat another's day and times: parse each distinct one once (the same HoursRow).
    made: dict[tuple[str, str, str], HoursRow] = {}

    def parse(fields: list[str]) -> HoursRecord:
        store_id = fields[id_at]
        if not store_id or store_id[0].isspace() or store_id[-1].isspace():
            store_id = _column("store_id", parse_store_id, store_id)
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
        return store_id, row

    return parse


def _zones_parser(at: dict[str, int]) -> _Parser:
    def parse(fields: list[str]) -> ZoneRecord:
        return (
            _column("store_id", parse_store_id, fields[at["store_id"]]),
            _column("timezone_str", parse_zone_key, fields[at["timezone_str"]]),
        )

    return parse


_PARSERS: dict[SourceKind, Callable[[dict[str, int]], _Parser]] = {
    SourceKind.STATUS: _status_parser,
    SourceKind.HOURS: _hours_parser,
    SourceKind.ZONES: _zones_parser,
}


def read_rows(
    kind: SourceKind,
    raw_lines: Iterable[bytes],
    source: str,
    *,
    positions: dict[str, int] | None = None,
    first_line: int = 1,
) -> Iterator[Any]:
    """
    Yield each good record of a source, and a ``Rejected`` for each bad line.

    Without ``positions`` the first line is read as the header. Blank lines are skipped.

    Raises:
        SourceError: the header is missing or lacks a column.
    """
    lines = iter(raw_lines)
    line_number = first_line - 1
    if positions is None:
        positions = read_header(kind, next(lines, None), source)
        line_number += 1
    parse = _PARSERS[kind](positions)
    width = positions[""]
    for raw in lines:
        line_number += 1
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            yield Rejected(source, line_number, None, "the line is not UTF-8 text", text)
            continue
        if not line.strip():
            continue
        if '"' in line:
            try:
                fields = next(csv.reader([line]))
            except csv.Error as error:
                yield Rejected(source, line_number, None, f"not a CSV line: {error}", line)
                continue
        else:
            fields = line.split(",")
        if len(fields) != width:
            yield Rejected(
                source, line_number, None, f"expected {width} fields, found {len(fields)}", line
            )
            continue
        try:
            yield parse(fields)
        except _ColumnError as error:
            yield Rejected(source, line_number, error.column, error.reason, line)


@attrs.define
class Batch:
    """
    The parsed rows of one chunk of a source.
    """

    records: list[Any]
    rejected: list[Rejected]


_NAIVE_EPOCH = dt.datetime(1970, 1, 1)  # noqa: DTZ001 - subtracted from naive UTC values
_ONE_US = dt.timedelta(microseconds=1)
_FAST_STATUS_COLUMNS = {
    # A store id without surrounding spaces, quotes or commas.
    "store_id": r'([^\s,"]|[^\s,"][^,"\r\n]*[^\s,"])',
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


def _fast_status_records(
    pattern: re.Pattern[str], positions: dict[str, int], text: str
) -> list[PollRecord] | None:
    """
    Parse a chunk of status lines in one regular-expression pass, or ``None`` if any line
    is not in the common spelling (the caller then reads the chunk line by line).
    """
    matches = pattern.findall(text)
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if len(matches) != lines:
        return None
    groups = sorted(SourceKind.STATUS.columns, key=positions.__getitem__)
    id_at = groups.index("store_id")
    status_at = groups.index("status")
    instant_at = groups.index("timestamp_utc")
    parse = dt.datetime.fromisoformat
    try:
        return [
            (
                match[id_at],
                (parse(match[instant_at]) - _NAIVE_EPOCH) // _ONE_US,
                match[status_at] == "active",
            )
            for match in matches
        ]
    except ValueError:  # an impossible date or time: let the line reader say which
        return None


def parse_lines(
    kind: SourceKind, chunk: bytes, source: str, *, positions: dict[str, int], first_line: int
) -> Batch:
    """
    Parse a chunk of whole lines numbered from ``first_line``: its records and rejects.

    Equivalent to ``read_rows`` on the same lines, but much faster on status lines: a chunk
    whose lines all have the common spelling is parsed in one regular-expression pass.
    """
    if kind is SourceKind.STATUS and (fast := _fast_status_pattern(positions)) is not None:
        try:
            records = _fast_status_records(fast, positions, chunk.decode("utf-8"))
        except UnicodeDecodeError:
            records = None
        if records is not None:
            return Batch(records, [])
    batch = Batch([], [])
    lines = chunk.split(b"\n")
    if not lines[-1]:
        lines.pop()
    for item in read_rows(kind, lines, source, positions=positions, first_line=first_line):
        if isinstance(item, Rejected):
            batch.rejected.append(item)
        else:
            batch.records.append(item)
    return batch


def read_batches(
    kind: SourceKind,
    lines: LineBuffer,
    source: str,
    *,
    positions: dict[str, int] | None = None,
) -> Iterator[Batch]:
    """
    Read a source in chunks of whole lines; yield each chunk's records and rejects.

    Without ``positions`` the next line is read as the header. Line numbers follow
    ``lines.lines``.

    Raises:
        SourceError: the header is missing or lacks a column.
    """
    if positions is None:
        positions = read_header(kind, lines.readline() or None, source)
    for first_line, chunk in lines.chunks():
        yield parse_lines(kind, chunk, source, positions=positions, first_line=first_line)
