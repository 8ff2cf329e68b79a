"""
Bad input never loses data and never half-applies: bad rows are kept, bad files change nothing.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from .conftest import HOURS_HEADER, STATUS_HEADER, ZONES_HEADER, Inputs, cli, dump

GOOD = {
    "status": "1,active,2023-01-25 10:00:00.5 UTC",
    "business-hours": "1,0,09:00:00,17:00:00",
    "timezones": "1,America/Denver",
}
SECOND_GOOD = {
    "status": "2,inactive,2023-01-25T11:00:00Z",
    "business-hours": "2,6,22:00:00,02:00:00",
    "timezones": "2,Asia/Beirut",
}
HEADERS = {"status": STATUS_HEADER, "business-hours": HOURS_HEADER, "timezones": ZONES_HEADER}
TABLES = {"status": "polls", "business-hours": "hours", "timezones": "zones"}


@pytest.mark.parametrize(
    ("option", "line", "column", "reason"),
    [
        ("status", "3,active,yesterday at noon", "timestamp_utc", "cannot read 'yesterday"),
        ("status", "3,active,2023-02-30 10:00:00 UTC", "timestamp_utc", "not a real date"),
        ("status", "3,dormant,2023-01-25 10:00:00 UTC", "status", "'active' or 'inactive'"),
        ("status", "3,active", "", "expected 3 fields, found 2"),
        ("status", "3,active,2023-01-25 10:00:00 UTC,extra", "", "expected 3 fields, found 4"),
        ("status", ",active,2023-01-25 10:00:00 UTC", "store_id", "store_id is empty"),
        ("business-hours", "3,7,09:00:00,17:00:00", "day", "0 (Monday) to 6 (Sunday)"),
        ("business-hours", "3,1,25:00:00,17:00:00", "start_time_local", "out of range"),
        ("business-hours", "3,1,09:00:00,5pm", "end_time_local", "as a time of day"),
        ("timezones", "3,Mars/Olympus_Mons", "timezone_str", "unknown time zone"),
        ("timezones", "3", "", "expected 2 fields, found 1"),
    ],
)
def test_bad_row_is_rejected_and_the_good_rows_stored(
    tmp_path: Path, db_url: str, option: str, line: str, column: str, reason: str
) -> None:
    """A bad row is rejected with file, line, column and reason; the good rows are stored."""
    path = tmp_path / "input.csv"
    path.write_text(HEADERS[option] + f"{GOOD[option]}\n{line}\n{SECOND_GOOD[option]}\n")
    rejects_csv = tmp_path / "rejects.csv"
    run = cli("ingest", "--db", db_url, f"--{option}", str(path), "--rejects", str(rejects_csv))
    assert run.status == 3
    where = f"{path}:3: column {column}: " if column else f"{path}:3: "
    assert f"rejected: {where}" in run.err
    assert reason in run.err
    assert "1 rejected" in run.out
    assert len(dump(db_url)[TABLES[option]]) == 2
    with rejects_csv.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["source", "line", "column", "reason", "text"]
    assert rows[1][:3] == [str(path), "3", column]
    assert reason in rows[1][3]
    assert rows[1][4] == line
    (kept,) = dump(db_url)["rejects"]
    assert kept[:3] == (str(path), 3, column or None)
    assert kept[4] == line


def test_undecodable_line_is_rejected_alone(tmp_path: Path, db_url: str) -> None:
    """A line that is not UTF-8 is rejected on its own and kept with replacement characters."""
    path = tmp_path / "status.csv"
    path.write_bytes(STATUS_HEADER.encode() + b"1,active,\xff\xfe\n" + GOOD["status"].encode())
    run = cli("ingest", "--db", db_url, "--status", str(path), "--json")
    assert run.status == 3
    assert "not UTF-8" in run.err
    assert json.loads(run.out)["sources"][0]["stored"] == 1
    assert dump(db_url)["rejects"][0][4] == "1,active,\ufffd\ufffd"


def test_rejects_of_a_source_read_again_in_full_are_replaced(tmp_path: Path, db_url: str) -> None:
    """Reading a changed file in full replaces its kept rejects instead of adding to them."""
    path = tmp_path / "status.csv"
    path.write_text(STATUS_HEADER + "x,bad,row\ny,bad,row\n")
    assert cli("ingest", "--db", db_url, "--status", str(path)).status == 3
    assert len(dump(db_url)["rejects"]) == 2
    path.write_text(STATUS_HEADER + "x,bad,row\n" + GOOD["status"] + "\n")
    assert cli("ingest", "--db", db_url, "--status", str(path)).status == 3
    assert [row[1] for row in dump(db_url)["rejects"]] == [2]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,state,when\n1,active,2023-01-25 10:00:00 UTC\n", "column store_id: missing"),
        (b"store_id,timestamp_utc\n1,2023-01-25 10:00:00 UTC\n", "column status: missing"),
        (b"", "the file is empty"),
        (b"\xff\xfe\x00s\x00t\n", "not UTF-8"),
        (b"store_id,status,status,timestamp_utc\n", "appears twice"),
    ],
)
def test_bad_file_is_refused_and_changes_nothing(
    inputs: Inputs, tmp_path: Path, db_url: str, content: bytes, message: str
) -> None:
    """A file with a bad header is refused with a clear message and exit 1, storing nothing."""
    assert cli("ingest", "--db", db_url, *inputs.args()).status == 0
    before = dump(db_url)
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    run = cli("ingest", "--db", db_url, "--status", str(path))
    assert run.status == 1
    assert f"storemon ingest: error: {path}" in run.err
    assert message in run.err
    assert "refused" in run.out
    assert dump(db_url) == before


def test_bad_header_late_in_nothing_half_applied(tmp_path: Path, db_url: str) -> None:
    """A file refused for its header adds neither rows nor rejects nor a source state."""
    path = tmp_path / "hours.csv"
    path.write_text("store_id,weekday,start_time_local,end_time_local\n1,0,09:00,10:00\n")
    assert cli("ingest", "--db", db_url, "--business-hours", str(path)).status == 1
    assert all(rows == [] for rows in dump(db_url).values())


def test_missing_file_is_refused_before_anything_is_stored(
    inputs: Inputs, tmp_path: Path, db_url: str
) -> None:
    """A file that is not there is one line and exit 1 before any work: no database is made."""
    missing = tmp_path / "nope.csv"
    run = cli("ingest", "--db", db_url, "--status", str(missing), "--timezones", str(inputs.zones))
    assert run.status == 1
    assert run.err == f"storemon ingest: error: --status {missing}: no such file\n"
    assert run.out == ""
    assert not Path(db_url.removeprefix("sqlite:///")).exists()


def test_header_only_file_stores_nothing_and_succeeds(tmp_path: Path, db_url: str) -> None:
    """A file with a header and no rows is a valid, empty source (exit 0)."""
    path = tmp_path / "status.csv"
    path.write_text(STATUS_HEADER)
    run = cli("ingest", "--db", db_url, "--status", str(path), "--json")
    assert run.status == 0
    assert json.loads(run.out)["sources"][0]["read"] == 0


def test_bad_rows_do_not_hide_a_refused_source(tmp_path: Path, db_url: str) -> None:
    """Rejected rows in one source and a refused other source exit 1, not 3."""
    status = tmp_path / "status.csv"
    status.write_text(STATUS_HEADER + "1,what,ever\n")
    zones = tmp_path / "zones.csv"
    zones.write_text("no,header,here\n")
    run = cli("ingest", "--db", db_url, "--status", str(status), "--timezones", str(zones))
    assert run.status == 1
    assert len(dump(db_url)["rejects"]) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["ingest", "--db", "memory://"],
        ["report"],
        ["report", "--db", "memory://", "--status", "x.csv"],
        ["report", "--db", "memory://", "--business-hours", "h.csv"],
        ["ingest", "--status"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Missing or conflicting options are usage errors (exit 2) with a message."""
    run = cli(*argv)
    assert run.status == 2
    assert "error" in run.err + capsys.readouterr().err  # argparse writes to sys.stderr


def test_unknown_database_scheme_exits_1(inputs: Inputs) -> None:
    """An unknown database URL scheme is a clear error (exit 1)."""
    run = cli("ingest", "--db", "mongodb://x", "--status", str(inputs.status))
    assert run.status == 1
    assert "no storage backend for mongodb://" in run.err


def test_report_from_an_empty_database_says_why(tmp_path: Path, db_url: str) -> None:
    """A report from a database without polls and without --as-of names the option to give."""
    zones = tmp_path / "zones.csv"
    zones.write_text(ZONES_HEADER)
    assert cli("ingest", "--db", db_url, "--timezones", str(zones)).status == 0
    run = cli("report", "--db", db_url)
    assert run.status == 1
    assert run.err == (
        f"storemon report: error: --db {db_url}: the database has no polls, so the report "
        "has no 'now'; give --as-of\n"
    )
