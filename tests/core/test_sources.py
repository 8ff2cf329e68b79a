"""
Reading the three CSV inputs (``storemon.load_csv``) and the ``storemon report`` command.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storemon import Dataset, HoursRow, Rejected, SourceError, load_csv
from storemon.cli import main
from tests.core.support import csv_bytes
from tests.strategies import TIMESTAMP_STYLES, instants, timestamp_text

UTC = dt.UTC
STATUS_HEADER = ("store_id", "status", "timestamp_utc")
HOURS_HEADER = ("store_id", "day", "start_time_local", "end_time_local")
ZONES_HEADER = ("store_id", "timezone_str")


def stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def status_file(rows: list[tuple[str, ...]], **quirks: bool) -> io.BytesIO:
    return stream(csv_bytes(STATUS_HEADER, rows, **quirks))


def polls_of(dataset: Dataset) -> dict[str, list[tuple[int, bool]]]:
    """
    Each store's polls as the engine sees them, through the public snapshots.

    All polls in these tests lie within a week of the latest, so none is trimmed.
    """
    as_of = dataset.latest_poll_at()
    if as_of is None:
        return {}
    return {
        snapshot.store_id: list(zip(snapshot.poll_at_us, snapshot.poll_active, strict=True))
        for snapshot in dataset.snapshots(as_of=as_of)
    }


def us(at: dt.datetime) -> int:
    delta = at - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# --- accepted spellings ----------------------------------------------------------------

FRACTIONS = ["", ".1", ".12", ".123", ".1234", ".12345", ".123456"]


@pytest.mark.parametrize("fraction", FRACTIONS)
@pytest.mark.parametrize(
    "template",
    [
        "2023-01-22 12:09:39{f} UTC",
        "2023-01-22T12:09:39{f}Z",
        "2023-01-22T12:09:39{f}+00:00",
        "2023-01-22 12:09:39{f}+00:00",
        "2023-01-22T12:09:39{f} UTC",
        "2023-01-22 12:09:39{f}Z",
    ],
)
def test_timestamp_spellings_name_the_same_instant(template: str, fraction: str) -> None:
    """Every accepted spelling with 0 to 6 fraction digits reads as the instant it names."""
    text = template.format(f=fraction)
    micros = int(fraction[1:].ljust(6, "0")) if fraction else 0
    dataset = load_csv(status_file([("s", "active", text)]))
    assert dataset.rejected == []
    assert dataset.latest_poll_at() == dt.datetime(2023, 1, 22, 12, 9, 39, micros, tzinfo=UTC)


def test_timestamp_with_another_offset_is_converted_to_utc() -> None:
    """An ISO timestamp with a non-zero offset names the UTC instant it denotes."""
    dataset = load_csv(status_file([("s", "active", "2023-01-22T17:39:39.5+05:30")]))
    assert dataset.latest_poll_at() == dt.datetime(2023, 1, 22, 12, 9, 39, 500_000, tzinfo=UTC)


@given(at=instants(), style=st.sampled_from(TIMESTAMP_STYLES))
def test_any_instant_survives_any_spelling(at: dt.datetime, style: str) -> None:
    """An instant written in any accepted spelling is read back to the microsecond."""
    dataset = load_csv(status_file([("s", "active", timestamp_text(at, style))]))
    assert dataset.rejected == []
    assert polls_of(dataset) == {"s": [(us(at), True)]}


@pytest.mark.parametrize(
    ("text", "active"),
    [
        ("active", True),
        ("ACTIVE", True),
        ("Active", True),
        ("inactive", False),
        ("InActive", False),
    ],
)
def test_status_in_any_letter_case(text: str, active: bool) -> None:
    """The status is active or inactive in any letter case."""
    dataset = load_csv(status_file([("s", text, "2024-01-01 00:00:00 UTC")]))
    assert dataset.rejected == []
    assert polls_of(dataset)["s"][0][1] is active


@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "bom"])
@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
@pytest.mark.parametrize("final_newline", [True, False], ids=["final-newline", "no-final-newline"])
def test_bom_line_ends_and_final_newline(bom: bool, crlf: bool, final_newline: bool) -> None:
    """A UTF-8 BOM, CRLF line ends and a missing final newline change nothing in any file."""
    quirks = {"bom": bom, "crlf": crlf, "final_newline": final_newline}
    status_rows = [
        ("a1", "active", "2024-01-01 10:00:00.5 UTC"),
        ("982bc638-2cf1-4f37-9e0b-2a6bcbf4a2f1", "inactive", "2024-01-01 11:00:00 UTC"),
    ]
    dataset = load_csv(
        stream(csv_bytes(STATUS_HEADER, status_rows, **quirks)),
        stream(csv_bytes(HOURS_HEADER, [("a1", 0, "09:00:00", "17:00:00")], **quirks)),
        stream(csv_bytes(ZONES_HEADER, [("a1", "Asia/Kolkata")], **quirks)),
    )
    assert dataset.rejected == []
    start_us = us(dt.datetime(2024, 1, 1, 10, 0, 0, 500_000, tzinfo=UTC))
    assert polls_of(dataset) == {
        "a1": [(start_us, True)],
        "982bc638-2cf1-4f37-9e0b-2a6bcbf4a2f1": [(start_us + 3_599_500_000, False)],
    }
    assert dataset.hours == {"a1": [HoursRow(0, dt.time(9), dt.time(17))]}
    assert dataset.zones == {"a1": "Asia/Kolkata"}


@pytest.mark.parametrize("day_column", ["day", "dayOfWeek", "DAYOFWEEK"])
def test_day_column_spellings(day_column: str) -> None:
    """The weekday column may be named day or dayOfWeek."""
    header = ("store_id", day_column, "start_time_local", "end_time_local")
    rows = [("s", 6, "22:00:00", "02:00:00"), ("s", 0, "00:00:00", "24:00:00")]
    dataset = load_csv(status_file([]), stream(csv_bytes(header, rows)))
    assert dataset.rejected == []
    assert dataset.hours == {
        "s": [
            HoursRow(6, dt.time(22), dt.time(2)),
            HoursRow(0, dt.time(0), dt.time(0), end_is_midnight=True),
        ]
    }


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_status_columns_in_any_order(order: tuple[int, ...]) -> None:
    """The status file's columns may come in any order, with extra columns ignored."""
    header = [STATUS_HEADER[index] for index in order] + ["note"]
    values = ("7", "inactive", "2024-01-01 00:00:00 UTC")
    row = [values[index] for index in order] + ["x"]
    dataset = load_csv(stream(csv_bytes(header, [row])))
    assert dataset.rejected == []
    assert polls_of(dataset) == {"7": [(us(dt.datetime(2024, 1, 1, tzinfo=UTC)), False)]}


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_hours_columns_in_any_order(order: tuple[int, ...]) -> None:
    """The hours file's columns may come in any order."""
    header = [HOURS_HEADER[index] for index in order]
    values = ("7", "3", "08:30:00", "23:59:59.5")
    dataset = load_csv(status_file([]), stream(csv_bytes(header, [[values[i] for i in order]])))
    assert dataset.rejected == []
    assert dataset.hours == {"7": [HoursRow(3, dt.time(8, 30), dt.time(23, 59, 59, 500_000))]}


def test_zone_columns_in_any_order_and_header_case() -> None:
    """The zones file's columns may come in any order and with any letter case."""
    data = csv_bytes(("TimeZone_Str", "Store_ID"), [("Europe/London", "s")])
    dataset = load_csv(status_file([]), None, stream(data))
    assert dataset.rejected == []
    assert dataset.zones == {"s": "Europe/London"}


def test_quoted_fields_and_blank_lines() -> None:
    """Quoted fields are read as CSV, and blank lines are skipped."""
    data = b'store_id,status,timestamp_utc\n"a,b",active,2024-01-01 00:00:00 UTC\n\n'
    data += b"c,active,2024-01-01 00:00:00 UTC\n"
    dataset = load_csv(stream(data))
    assert dataset.rejected == []
    assert sorted(dataset.polls) == ["a,b", "c"]


# --- rejected rows ---------------------------------------------------------------------


def write(path: Path, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> Path:
    path.write_bytes(csv_bytes(header, rows))
    return path


GOOD_STATUS = ("good", "active", "2024-01-01 00:00:00 UTC")


@pytest.mark.parametrize(
    ("row", "column", "word"),
    [
        (("s", "active", "yesterday"), "timestamp_utc", "yesterday"),
        (("s", "active", "2023-13-01 00:00:00 UTC"), "timestamp_utc", "2023-13-01"),
        (("s", "active", "2023-02-30 00:00:00 UTC"), "timestamp_utc", "2023-02-30"),
        (("s", "active", "2023-01-22 25:00:00 UTC"), "timestamp_utc", "25:00:00"),
        (("s", "active", "2023-01-22 12:09:39.1234567 UTC"), "timestamp_utc", "1234567"),
        (("s", "active", "2023-01-22 12:09 UTC"), "timestamp_utc", "12:09"),
        (("s", "active", ""), "timestamp_utc", "timestamp"),
        (("s", "open", "2024-01-01 00:00:00 UTC"), "status", "open"),
        (("s", "", "2024-01-01 00:00:00 UTC"), "status", "status"),
        (("", "active", "2024-01-01 00:00:00 UTC"), "store_id", "empty"),
    ],
)
def test_bad_status_rows_are_rejected(
    tmp_path: Path, row: tuple[str, ...], column: str, word: str
) -> None:
    """A bad status row is rejected with its file, line, column and a reason; good rows stay."""
    path = write(tmp_path / "status.csv", STATUS_HEADER, [GOOD_STATUS, row, GOOD_STATUS])
    dataset = load_csv(path)
    assert list(dataset.polls) == ["good"]
    assert len(dataset.rejected) == 1
    rejected = dataset.rejected[0]
    assert (rejected.source, rejected.line, rejected.column) == (str(path), 3, column)
    assert word in rejected.reason
    assert rejected.text == ",".join(row)
    assert str(rejected).startswith(f"{path}:3: column {column}: ")


@pytest.mark.parametrize(
    ("row", "column", "word"),
    [
        (("s", "7", "09:00:00", "17:00:00"), "day", "7"),
        (("s", "-1", "09:00:00", "17:00:00"), "day", "-1"),
        (("s", "mon", "09:00:00", "17:00:00"), "day", "mon"),
        (("s", "1.0", "09:00:00", "17:00:00"), "day", "1.0"),
        (("s", "1", "25:00:00", "17:00:00"), "start_time_local", "25:00:00"),
        (("s", "1", "09:60:00", "17:00:00"), "start_time_local", "09:60:00"),
        (("s", "1", "24:00:00", "17:00:00"), "start_time_local", "24:00:00"),
        (("s", "1", "09:00:00", "noon"), "end_time_local", "noon"),
        (("s", "1", "09:00:00", "24:00:01"), "end_time_local", "24:00:01"),
        (("s", "1", "09:00:00", ""), "end_time_local", "time"),
    ],
)
def test_bad_hours_rows_are_rejected(
    tmp_path: Path, row: tuple[str, ...], column: str, word: str
) -> None:
    """A bad business-hours row is rejected with its file, line, column and a reason."""
    good = ("good", "1", "09:00:00", "17:00:00")
    path = write(tmp_path / "hours.csv", HOURS_HEADER, [row, good])
    dataset = load_csv(status_file([]), path)
    assert list(dataset.hours) == ["good"]
    assert len(dataset.rejected) == 1
    rejected = dataset.rejected[0]
    assert (rejected.source, rejected.line, rejected.column) == (str(path), 2, column)
    assert word in rejected.reason


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "america/chicago", "", "CST6CDT7"])
def test_unknown_zone_is_rejected(tmp_path: Path, zone: str) -> None:
    """A zone name the tz database does not know is rejected with file, line and column."""
    path = write(tmp_path / "zones.csv", ZONES_HEADER, [("good", "Asia/Kolkata"), ("s", zone)])
    dataset = load_csv(status_file([]), None, path)
    assert dataset.zones == {"good": "Asia/Kolkata"}
    assert len(dataset.rejected) == 1
    rejected = dataset.rejected[0]
    assert (rejected.source, rejected.line, rejected.column) == (str(path), 3, "timezone_str")
    assert "zone" in rejected.reason


@pytest.mark.parametrize(
    "line", [b"s,active", b"s,active,2024-01-01 00:00:00 UTC,extra", b"s"], ids=["2", "4", "1"]
)
def test_wrong_number_of_fields_is_rejected(tmp_path: Path, line: bytes) -> None:
    """A row with the wrong number of fields is rejected as a whole, naming the counts."""
    path = tmp_path / "status.csv"
    path.write_bytes(b"store_id,status,timestamp_utc\n" + line + b"\n")
    dataset = load_csv(path)
    assert dataset.polls == {}
    [rejected] = dataset.rejected
    assert (rejected.source, rejected.line, rejected.column) == (str(path), 2, None)
    assert "expected 3 fields" in rejected.reason
    assert str(len(line.split(b","))) in rejected.reason


def test_undecodable_line_is_rejected_alone(tmp_path: Path) -> None:
    """A line that is not UTF-8 is rejected on its own; the other lines load."""
    path = tmp_path / "status.csv"
    path.write_bytes(
        b"store_id,status,timestamp_utc\ns\xff,active,2024-01-01 00:00:00 UTC\n"
        b"t,active,2024-01-01 00:00:00 UTC\n"
    )
    dataset = load_csv(path)
    assert list(dataset.polls) == ["t"]
    [rejected] = dataset.rejected
    assert (rejected.line, rejected.column) == (2, None)
    assert "UTF-8" in rejected.reason


@pytest.mark.parametrize(
    ("which", "header", "missing"),
    [
        ("status", ("store_id", "timestamp_utc"), "status"),
        ("status", ("status", "timestamp_utc"), "store_id"),
        ("status", ("store_id", "status"), "timestamp_utc"),
        ("hours", ("store_id", "start_time_local", "end_time_local"), "day"),
        ("hours", ("store_id", "day", "end_time_local"), "start_time_local"),
        ("hours", ("store_id", "day", "start_time_local"), "end_time_local"),
        ("zones", ("store_id",), "timezone_str"),
    ],
)
def test_missing_column_refuses_the_file(
    tmp_path: Path, which: str, header: tuple[str, ...], missing: str
) -> None:
    """A header without a required column raises SourceError naming file, line 1 and column."""
    path = write(tmp_path / f"{which}.csv", header, [])
    status = path if which == "status" else write(tmp_path / "s.csv", STATUS_HEADER, [])
    hours = path if which == "hours" else None
    zones = path if which == "zones" else None
    with pytest.raises(SourceError) as caught:
        load_csv(status, hours, zones)
    message = str(caught.value)
    assert f"{path}:1:" in message
    assert missing in message


def test_empty_file_refuses_the_file(tmp_path: Path) -> None:
    """An empty file, without even a header, raises SourceError naming the file."""
    path = tmp_path / "status.csv"
    path.write_bytes(b"")
    with pytest.raises(SourceError, match=r"status\.csv"):
        load_csv(path)


def test_missing_file_refuses_the_file(tmp_path: Path) -> None:
    """A file that does not exist raises SourceError naming it."""
    with pytest.raises(SourceError, match=r"nowhere\.csv"):
        load_csv(tmp_path / "nowhere.csv")


def test_rejected_is_a_plain_value() -> None:
    """A Rejected row compares by value and prints as file:line: column: reason."""
    item = Rejected("f.csv", 4, "day", "bad day", "s,9,09:00,10:00")
    assert item == Rejected("f.csv", 4, "day", "bad day", "s,9,09:00,10:00")
    assert str(item) == "f.csv:4: column day: bad day"
    assert str(Rejected("f.csv", 5, None, "expected 3 fields, found 2", "a,b")) == (
        "f.csv:5: expected 3 fields, found 2"
    )


# --- the command line ------------------------------------------------------------------


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """
    A small, valid data set: one 24x7 store, one store open Monday 09:00-17:00 in UTC.
    """
    return {
        "status": write(
            tmp_path / "status.csv",
            STATUS_HEADER,
            [
                ("9222367421889482050", "active", "2024-01-08 11:00:00 UTC"),
                ("open-all-week", "inactive", "2024-01-08 10:00:00.25 UTC"),
                ("9222367421889482050", "inactive", "2024-01-08 12:00:00 UTC"),
            ],
        ),
        "hours": write(
            tmp_path / "hours.csv", HOURS_HEADER, [("9222367421889482050", 0, "09:00", "17:00")]
        ),
        "zones": write(tmp_path / "zones.csv", ZONES_HEADER, [("9222367421889482050", "UTC")]),
    }


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def report_args(inputs: dict[str, Path], *extra: str) -> list[str]:
    return [
        "report",
        "--status",
        str(inputs["status"]),
        "--business-hours",
        str(inputs["hours"]),
        "--timezones",
        str(inputs["zones"]),
        *extra,
    ]


HEADER_LINE = (
    "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,"
    "downtime_last_hour,downtime_last_day,downtime_last_week"
)


def test_cli_report_writes_the_csv(inputs: dict[str, Path]) -> None:
    """storemon report prints the report for the latest poll and exits 0."""
    code, out, err = run(report_args(inputs))
    assert (code, err) == (0, "")
    # as_of Monday 2024-01-08 12:00 UTC; the day holds business 09:00-12:00, the change is at
    # 11:30; the week also holds Monday 2024-01-01 12:00-17:00, before the first poll: active.
    assert out == (
        f"{HEADER_LINE}\n"
        "9222367421889482050,30.00,2.50,7.50,30.00,0.50,0.50\n"
        "open-all-week,0.00,0.00,0.00,60.00,24.00,168.00\n"
    )


def test_cli_as_of(inputs: dict[str, Path]) -> None:
    """--as-of fixes the report's now; later polls are ignored."""
    code, out, _ = run(report_args(inputs, "--as-of", "2024-01-08T11:00:00Z"))
    assert code == 0
    # Only the 11:00 poll exists for the first store, so it is active throughout: the day
    # holds 09:00-11:00, the week also 2024-01-01 11:00-17:00.
    assert out.splitlines()[1] == "9222367421889482050,60.00,2.00,8.00,0.00,0.00,0.00"


def test_cli_as_of_before_every_poll(inputs: dict[str, Path]) -> None:
    """With --as-of before every poll the report is just its header."""
    code, out, _ = run(report_args(inputs, "--as-of", "2024-01-01 00:00:00 UTC"))
    assert (code, out) == (0, HEADER_LINE + "\n")


def test_cli_output_file(inputs: dict[str, Path], tmp_path: Path) -> None:
    """--output writes the CSV to a file and nothing to standard output."""
    target = tmp_path / "report.csv"
    code, out, _ = run(report_args(inputs, "--output", str(target)))
    assert (code, out) == (0, "")
    assert target.read_bytes().decode("utf-8").splitlines()[0] == HEADER_LINE
    assert target.read_bytes().count(b"\n") == 3
    assert b"\r" not in target.read_bytes()


def test_cli_status_only_uses_the_defaults(inputs: dict[str, Path]) -> None:
    """Without hours and zones files every store is open 24x7 in America/Chicago."""
    code, out, _ = run(["report", "--status", str(inputs["status"])])
    assert code == 0
    # 24x7: the last hour is 11:00-12:00, with the change at 11:30.
    assert out.splitlines()[1] == "9222367421889482050,30.00,23.50,167.50,30.00,0.50,0.50"


def test_cli_rejected_rows_exit_3(inputs: dict[str, Path]) -> None:
    """Rejected rows are listed on standard error with file and line, and the exit status is 3."""
    with inputs["status"].open("ab") as handle:
        handle.write(b"x,maybe,2024-01-08 11:00:00 UTC\ny,active,soon\n")
    code, out, err = run(report_args(inputs))
    assert code == 3
    assert out.startswith(HEADER_LINE + "\n")
    assert "x," not in out
    assert f"{inputs['status']}:5: column status" in err
    assert f"{inputs['status']}:6: column timestamp_utc" in err
    assert "2 rows rejected" in err


def test_cli_missing_column_exits_1(inputs: dict[str, Path]) -> None:
    """A file without a required column stops the command with exit status 1 and a message."""
    inputs["zones"].write_bytes(b"store_id,zone\ns,UTC\n")
    code, out, err = run(report_args(inputs))
    assert (code, out) == (1, "")
    assert "timezone_str" in err
    assert f"{inputs['zones']}:1:" in err


def test_cli_usage_errors_exit_2(inputs: dict[str, Path]) -> None:
    """A missing --status or an unreadable --as-of is a usage error, exit status 2."""
    code, out, err = run(["report"])
    assert (code, out) == (2, "")
    assert "--status" in err
    code, out, err = run(report_args(inputs, "--as-of", "tomorrow"))
    assert (code, out) == (2, "")
    assert "argument --as-of: cannot read 'tomorrow'" in err
