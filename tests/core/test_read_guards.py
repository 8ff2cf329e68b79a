"""
Guards on what is read: store ids, zone names, polls from the future, lines over the
limit, records whose quoted field spans lines, and bounded messages.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import io
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import pytest

from storemon import load_csv
from storemon.errors import MAX_MESSAGE_CHARS, DataError, SourceError, StoremonError
from storemon.lines import LineBuffer
from storemon.localtime import zone_for
from storemon.model import REJECTED_TEXT_BYTES, Rejected
from storemon.parsing import parse_store_id, parse_zone_key
from storemon.sources import SourceKind, read_batches, read_rows

STATUS = b"store_id,status,timestamp_utc\n"
GOOD = b"good,active,2023-01-25 10:00:00 UTC\n"


def status(*lines: bytes) -> io.BytesIO:
    return io.BytesIO(STATUS + b"".join(lines))


# --- store ids ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("store_id", "reason"),
    [
        ("adv\x00nul", "control character (U+0000 at position 4)"),
        ("tab\there", "control character (U+0009"),
        ("del\x7f", "control character (U+007F"),
        ("c1\x85x", "control character (U+0085"),
        ("=cmd|' /C calc'!A1", "starts with '='"),
        ("+1", "starts with '+'"),
        ("-2", "starts with '-'"),
        ("@SUM(1)", "starts with '@'"),
        ("x" * 129, "longer than 128 characters"),
        ("   ", "store_id is empty"),
    ],
)
def test_bad_store_ids_are_rejected_with_line_column_and_reason(store_id: str, reason: str) -> None:
    """An id that is empty, too long, has a control character or starts a formula is rejected."""
    line = f"{store_id},active,2023-01-25 10:00:00 UTC\n".encode()
    dataset = load_csv(status(GOOD, line, GOOD))
    assert list(dataset.polls) == ["good"]
    [rejected] = dataset.rejected
    assert (rejected.line, rejected.column) == (3, "store_id")
    assert reason in rejected.reason


@pytest.mark.parametrize(
    "store_id",
    [
        'quote"inside',
        "comma,inside",
        'both "a,b"',
        "unicode-é-店-🏪",
        "x" * 128,
        "8419537941919820732",
        "a=b+c-d@e",
    ],
)
def test_nasty_but_valid_store_ids_are_kept_exactly(store_id: str) -> None:
    """Quotes, commas, any other character and 128 characters are valid ids, kept as written."""
    quoted = '"' + store_id.replace('"', '""') + '"'
    dataset = load_csv(status(f"{quoted},active,2023-01-25 10:00:00 UTC\n".encode()))
    assert dataset.rejected == []
    assert list(dataset.polls) == [store_id]
    assert parse_store_id(store_id) == store_id


def test_hours_and_zones_ids_are_checked_too(tmp_path: Path) -> None:
    """The business-hours and time-zone readers refuse the same ids as the status reader."""
    hours = tmp_path / "hours.csv"
    hours.write_text(
        "store_id,day,start_time_local,end_time_local\n=1,0,09:00,10:00\nok,0,09:00,10:00\n"
    )
    zones = tmp_path / "zones.csv"
    zones.write_text("store_id,timezone_str\n@z,Asia/Kolkata\nok,Asia/Kolkata\n")
    dataset = load_csv(status(GOOD), hours, zones)
    assert (list(dataset.hours), list(dataset.zones)) == (["ok"], ["ok"])
    assert [(item.line, item.column) for item in dataset.rejected] == [
        (2, "store_id"),
        (2, "store_id"),
    ]


# --- zones -------------------------------------------------------------------------------


#: What a host's tz folder holds besides IANA zones, and the zone file each copies.
HOST_FILES = {
    "localtime": "America/Chicago",
    "posixrules": "America/New_York",
    "posix/Europe/Paris": "Europe/Paris",
    "right/UTC": "UTC",
    "Factory": "Factory",
}


@pytest.fixture
def host_tzpath(tmp_path: Path) -> Iterator[None]:
    """
    A tz folder like a host's (``localtime``, ``posixrules``, ``posix/``, ``right/``) on
    the search path, as on a production host; the pinned empty path again afterwards.
    """
    for name, zone in HOST_FILES.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(importlib.resources.files("tzdata.zoneinfo").joinpath(zone).read_bytes())
    zoneinfo.reset_tzpath(to=[str(tmp_path)])
    zone_for.cache_clear()
    zoneinfo.ZoneInfo.clear_cache()
    try:
        yield
    finally:
        zoneinfo.reset_tzpath(to=[])
        zone_for.cache_clear()
        zoneinfo.ZoneInfo.clear_cache()


@pytest.mark.usefixtures("host_tzpath")
@pytest.mark.parametrize("zone", sorted(HOST_FILES))
def test_host_files_are_not_zones(zone: str) -> None:
    """Names whose meaning depends on the host's tz folder are refused, even where it has them."""
    assert zoneinfo.ZoneInfo(zone) is not None  # the host would answer them
    with pytest.raises(DataError, match="zone"):
        parse_zone_key(zone)


@pytest.mark.parametrize("zone", ["America/Chicago", "US/Central", "UTC", "Etc/GMT+5"])
def test_iana_names_and_their_links_are_zones(zone: str) -> None:
    """Every name in the tzdata package's list, links included, is accepted."""
    assert parse_zone_key(zone) == zone


# --- polls from the future ---------------------------------------------------------------


def test_a_poll_after_the_clock_plus_the_tolerance_is_rejected() -> None:
    """A poll dated 9999 is rejected with its reason, and 'now' stays with believable data."""
    latest = dt.datetime(2023, 1, 25, 11, tzinfo=dt.UTC)
    dataset = load_csv(
        status(
            GOOD,
            b"s,active,9999-12-31 00:00:00 UTC\n",
            b"edge,active,2023-01-25 11:00:00 UTC\n",
            b"late,active,2023-01-25 11:00:00.000001 UTC\n",
        ),
        latest_at=latest,
    )
    assert sorted(dataset.polls) == ["edge", "good"]
    assert [(item.line, item.column) for item in dataset.rejected] == [
        (3, "timestamp_utc"),
        (5, "timestamp_utc"),
    ]
    assert "9999-12-31 00:00:00 UTC is in the future" in dataset.rejected[0].reason
    assert dataset.latest_poll_at() == latest


# --- lines over the limit ----------------------------------------------------------------


def test_a_line_over_the_limit_is_rejected_as_such_and_kept_short() -> None:
    """A line over the limit is one reject saying so, with at most its first KiB kept."""
    long_line = b"s," + b"x" * 5000 + b"\n"
    lines = LineBuffer(status(GOOD, long_line, GOOD).read, chunk_size=64, max_line=1000)
    batches = list(read_batches(SourceKind.STATUS, lines, "f.csv"))
    records = [record for batch in batches for record in batch.records]
    [rejected] = [item for batch in batches for item in batch.rejected]
    assert len(records) == 2
    assert rejected.line == 3
    assert rejected.reason == "the line is 5003 bytes long, over the limit of 1000 bytes"
    assert rejected.text == (b"s," + b"x" * 1022).decode()
    assert lines.offset == len(STATUS) + 2 * len(GOOD) + len(long_line)


def test_a_long_header_is_refused_without_being_echoed() -> None:
    """A header over the limit refuses the file with a short message."""
    lines = LineBuffer(io.BytesIO(b"store_id," + b"y" * 100_000 + b"\n").read, max_line=1000)
    with pytest.raises(SourceError) as raised:
        list(read_batches(SourceKind.STATUS, lines, "f.csv"))
    assert "the header line is 100010 bytes long, over the limit of 1000 bytes" in str(raised.value)
    assert len(str(raised.value)) < 200


def test_a_rejected_line_keeps_at_most_its_first_kib() -> None:
    """Any reject keeps at most REJECTED_TEXT_BYTES of its line, multi-byte characters whole."""
    rejected = Rejected("f.csv", 2, None, "why", "é" * 5000)
    assert rejected.text == "é" * (REJECTED_TEXT_BYTES // 2)
    assert len(Rejected("f.csv", 2, None, "why", "short").text) == 5


# --- records whose quoted field spans lines ----------------------------------------------


def test_a_quoted_field_spanning_lines_rejects_every_line_of_its_record() -> None:
    """The record's tail is never stored as a row (it used to become a store named 'x"')."""
    dataset = load_csv(
        status(GOOD, b'"s1\n', b"more\n", b'x",active,2023-01-25 10:00:00 UTC\n', GOOD)
    )
    assert list(dataset.polls) == ["good"]
    assert [item.line for item in dataset.rejected] == [3, 4, 5]
    assert "runs on past the end of this line" in dataset.rejected[0].reason
    assert all("starts on line 3" in item.reason for item in dataset.rejected[1:])


def test_records_spanning_chunks_read_as_one_read_of_lines() -> None:
    """Cut into chunks of any size, the file reads as line by line: the record spans chunks."""
    data = STATUS + GOOD + b'"s1,active,\n' + b"\n" + b'2",x,y\n' + GOOD + b'"open\n' + GOOD
    expected = list(read_rows(SourceKind.STATUS, io.BytesIO(data), "f.csv"))
    for chunk_size in (1, 7, 64, 1 << 20):
        lines = LineBuffer(io.BytesIO(data).read, chunk_size=chunk_size)
        got = []
        for batch in read_batches(SourceKind.STATUS, lines, "f.csv"):
            got += [*batch.records, *batch.rejected]
        assert sorted(got, key=_line_of) == sorted(expected, key=_line_of)
    assert [item.line for item in expected if isinstance(item, Rejected)] == [3, 4, 5, 7, 8]


def _line_of(item: object) -> int:
    # Records are the GOOD lines 2 and 6; rejects carry their line.
    return item.line if isinstance(item, Rejected) else 0


def test_a_stray_quote_swallows_at_most_a_record_limit_of_lines() -> None:
    """A record left open ends after MAX_RECORD_BYTES, and the lines after it are read again."""
    from storemon.sources import MAX_RECORD_BYTES

    filler = b"f,active,2023-01-25 10:00:00 UTC\n"
    count = MAX_RECORD_BYTES // len(filler) + 10
    dataset = load_csv(status(b'"stray,active,2023-01-25 10:00:00 UTC\n', filler * count, GOOD))
    assert "good" in dataset.polls
    assert len(dataset.polls["f"]) < 20
    assert len(dataset.rejected) <= MAX_RECORD_BYTES // len(filler) + 2


# --- bounded messages --------------------------------------------------------------------


def test_every_error_message_is_bounded() -> None:
    """An error quoting a huge value is cut to MAX_MESSAGE_CHARS and says how much was cut."""
    error = StoremonError("x" * 1_000_000)
    assert len(str(error)) == MAX_MESSAGE_CHARS
    assert str(error).endswith("more characters)")


def test_a_bad_value_is_quoted_short_in_its_reject() -> None:
    """A 100 kB timestamp field is quoted by its start only."""
    dataset = load_csv(status(b"s,active," + b"9" * 100_000 + b"\n"))
    [rejected] = dataset.rejected
    assert "(100000 characters)" in rejected.reason
    assert len(rejected.reason) < 200
