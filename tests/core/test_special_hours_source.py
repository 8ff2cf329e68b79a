"""
The special-hours file (``load_csv(special_hours=...)``), reports with special days and a
maximum gap from CSV files, and the command line's ``--special-hours`` and ``--max-gap``.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from storemon import SourceError, compute_report, load_csv
from storemon.cli import main
from storemon.model import SpecialHoursRow
from tests.core.support import case_files, csv_bytes, row_seconds, snapshot_of, special_rows
from tests.reference import reference_store
from tests.strategies import StoreCase, max_gaps, special_store_cases

SPECIAL_HEADER = ("store_id", "date", "start_time_local", "end_time_local")
STATUS_HEADER = ("store_id", "status", "timestamp_utc")
HOURS_HEADER = ("store_id", "day", "start_time_local", "end_time_local")
ZONES_HEADER = ("store_id", "timezone_str")


def write(path: Path, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> Path:
    path.write_bytes(csv_bytes(header, rows))
    return path


def empty_status() -> io.BytesIO:
    return io.BytesIO(csv_bytes(STATUS_HEADER, []))


# --- reading the file -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00", dt.time(9)),
        ("9:00", dt.time(9)),
        ("09:00:00", dt.time(9)),
        ("09:00:30.5", dt.time(9, 0, 30, 500_000)),
        (" 09:00 ", dt.time(9)),
    ],
)
def test_every_time_spelling_of_the_weekly_file_is_read(text: str, expected: dt.time) -> None:
    """A special row's times take every spelling a business-hours row takes."""
    data = csv_bytes(SPECIAL_HEADER, [("s", "2024-12-25", text, "17:00")])
    dataset = load_csv(empty_status(), special_hours=io.BytesIO(data))
    assert dataset.rejected == []
    assert dataset.special == {"s": [SpecialHoursRow(dt.date(2024, 12, 25), expected, dt.time(17))]}


def test_closed_rows_24_00_ends_and_overnight_rows() -> None:
    """Both times empty is closed; 24:00 ends the day; an overnight row stays as written."""
    rows: list[tuple[object, ...]] = [
        ("s", "2024-12-25", "", ""),
        ("s", "2024-12-24", "18:00", "24:00"),
        ("t", "2024-12-31", "20:00:00", "02:00:00"),
    ]
    dataset = load_csv(empty_status(), special_hours=io.BytesIO(csv_bytes(SPECIAL_HEADER, rows)))
    assert dataset.rejected == []
    assert dataset.special == {
        "s": [
            SpecialHoursRow(dt.date(2024, 12, 25)),
            SpecialHoursRow(dt.date(2024, 12, 24), dt.time(18), dt.time(0), end_is_midnight=True),
        ],
        "t": [SpecialHoursRow(dt.date(2024, 12, 31), dt.time(20), dt.time(2))],
    }


@pytest.mark.parametrize(
    ("bom", "crlf", "final_newline"), list(itertools.product([False, True], repeat=3))
)
@pytest.mark.parametrize("order", list(itertools.permutations(range(4)))[::5])
def test_bom_line_ends_and_any_column_order(
    bom: bool, crlf: bool, final_newline: bool, order: tuple[int, ...]
) -> None:
    """A BOM, CRLF, a missing final newline and any column order read the same rows."""
    rows = [("s", "2024-12-25", "", ""), ("s", "2024-12-26", "10:00", "14:00")]
    header = tuple(SPECIAL_HEADER[index].upper() for index in order)
    shuffled = [tuple(row[index] for index in order) for row in rows]
    data = csv_bytes(header, shuffled, bom=bom, crlf=crlf, final_newline=final_newline)
    dataset = load_csv(empty_status(), special_hours=io.BytesIO(data))
    assert dataset.rejected == []
    assert dataset.special == {
        "s": [
            SpecialHoursRow(dt.date(2024, 12, 25)),
            SpecialHoursRow(dt.date(2024, 12, 26), dt.time(10), dt.time(14)),
        ]
    }


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (("s", "2024-02-30", "", ""), "date", "not a real date"),
        (("s", "25/12/2024", "", ""), "date", "as a date"),
        (("s", "", "09:00", "17:00"), "date", "as a date"),
        (("s", "2024-12-25", "09:00", ""), "end_time_local", "one time is empty"),
        (("s", "2024-12-25", "", "17:00"), "start_time_local", "one time is empty"),
        (("s", "2024-12-25", "noon", "17:00"), "start_time_local", "as a time of day"),
        (("s", "2024-12-25", "09:00", "25:00"), "end_time_local", "out of range"),
        (("s", "2024-12-25", "24:00", "17:00"), "start_time_local", "only be an end time"),
        (("=cmd()", "2024-12-25", "", ""), "store_id", ""),
    ],
)
def test_bad_rows_are_rejected_with_file_line_column_and_reason(
    tmp_path: Path, row: tuple[str, ...], column: str, words: str
) -> None:
    """A bad special row is rejected alone, naming the file, line, column and why."""
    good = ("good", "2024-12-25", "", "")
    path = write(tmp_path / "special.csv", SPECIAL_HEADER, [good, row, good])
    dataset = load_csv(empty_status(), special_hours=path)
    assert list(dataset.special) == ["good"]
    assert len(dataset.rejected) == 1
    rejected = dataset.rejected[0]
    assert (rejected.source, rejected.line, rejected.column) == (str(path), 3, column)
    assert words in rejected.reason
    assert rejected.text == ",".join(row)


def test_a_missing_column_refuses_the_file(tmp_path: Path) -> None:
    """A special-hours file without the date column is refused whole, naming the column."""
    path = tmp_path / "special.csv"
    path.write_bytes(b"store_id,start_time_local,end_time_local\ns,09:00,10:00\n")
    with pytest.raises(SourceError, match=r"special\.csv:1: column date: missing"):
        load_csv(empty_status(), special_hours=path)


# --- reports from the files, against the reference ------------------------------------


def _special_file(case: StoreCase, respell: list[bool], order: tuple[int, ...]) -> io.BytesIO:
    """
    The case's special rows as a file: columns in ``order``, times of whole minutes
    written ``HH:MM`` where ``respell`` says so.
    """

    def spelled(text: str, short: bool) -> str:
        return text[:5] if short and text.endswith(":00") and len(text) == 8 else text

    rows = [
        (case.store_id, date, spelled(start, short), spelled(end, short))
        for (date, start, end), short in zip(case.special, itertools.cycle(respell), strict=False)
    ]
    header = tuple(SPECIAL_HEADER[index] for index in order)
    shuffled = [tuple(row[index] for index in order) for row in rows]
    return io.BytesIO(csv_bytes(header, shuffled, bom=True, crlf=True))


@given(
    case=special_store_cases(),
    max_gap_us=st.one_of(st.none(), max_gaps()),
    respell=st.lists(st.booleans(), min_size=1, max_size=4),
    order=st.permutations(range(4)).map(tuple),
)
def test_reports_from_files_equal_the_reference(
    case: StoreCase, max_gap_us: int | None, respell: list[bool], order: tuple[int, ...]
) -> None:
    """From CSV files, special days and a maximum gap give the reference's numbers."""
    status, hours, zones = case_files([case])
    dataset = load_csv(status, hours, zones, special_hours=_special_file(case, respell, order))
    assert dataset.rejected == []
    max_gap = None if max_gap_us is None else dt.timedelta(microseconds=max_gap_us)
    report = dataset.report(case.as_of, max_gap=max_gap)
    snapshot = snapshot_of(case)
    assert report == compute_report(
        [snapshot],
        as_of=case.as_of,
        special_hours=[(case.store_id, row) for row in special_rows(case.special)],
        max_gap=max_gap,
    )
    assert dataset.report_csv(case.as_of, max_gap=max_gap) == report.to_csv()
    expected = reference_store(
        case.polls,
        case.hours,
        case.zone_key,
        case.as_of,
        special=case.special,
        max_gap_us=max_gap_us,
    )
    if expected is None:
        assert report.rows == ()
        return
    [row] = report.rows
    actual = row_seconds(row)
    unknown = {
        "hour": row.unknown_last_hour * 60,
        "day": row.unknown_last_day * 3600,
        "week": row.unknown_last_week * 3600,
    }
    for window, result in expected.items():
        up, down = actual[window]
        note(f"{window}: up={up}s down={down}s unknown={unknown[window]}s; reference {result}")
        assert abs(up - result.uptime_s) <= result.tolerance_s
        assert abs(down - result.downtime_s) <= result.tolerance_s
        assert abs(unknown[window] - result.unknown_s) <= result.tolerance_s
        assert abs(up + down + unknown[window] - result.business_s) <= (result.business_tolerance_s)


@given(case=special_store_cases())
def test_six_columns_without_a_gap_and_nine_with_one(case: StoreCase) -> None:
    """
    Without a maximum gap the CSV has the six columns; with a gap longer than all of the
    data's time, it has the same six values and three zeros after them.
    """
    status, hours, zones = case_files([case])
    dataset = load_csv(
        status, hours, zones, special_hours=_special_file(case, [False], (0, 1, 2, 3))
    )
    six = dataset.report_csv(case.as_of)
    nine = dataset.report_csv(case.as_of, max_gap=dt.timedelta(days=3650))
    six_lines, nine_lines = six.splitlines(), nine.splitlines()
    assert six_lines[0].count(",") == 6
    assert nine_lines[0] == six_lines[0] + ",unknown_last_hour,unknown_last_day,unknown_last_week"
    assert len(six_lines) == len(nine_lines)
    for short, long in zip(six_lines[1:], nine_lines[1:], strict=True):
        assert long == short + ",0.00,0.00,0.00"


# --- the command line -------------------------------------------------------------------


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """
    One store open Monday 09:00-17:00 UTC polled at 11:00 (active) and 12:00 (inactive)
    on Monday 2024-01-08, closed on Monday 2024-01-01; one 24x7 store in America/Chicago
    polled once, at 10:00:00.25 (inactive).
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
        "special": write(
            tmp_path / "special.csv",
            SPECIAL_HEADER,
            [("9222367421889482050", "2024-01-01", "", "")],
        ),
        "no_special": write(tmp_path / "none.csv", SPECIAL_HEADER, []),
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


SIX = (
    "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,"
    "downtime_last_hour,downtime_last_day,downtime_last_week"
)
NINE = SIX + ",unknown_last_hour,unknown_last_day,unknown_last_week"


def test_cli_special_hours_remove_a_closed_date(inputs: dict[str, Path]) -> None:
    """
    Closed on Monday 2024-01-01, the week loses that date's 12:00-17:00 (5 hours up):
    only Monday 2024-01-08 09:00-12:00 is left, up until the flip at 11:30.
    """
    code, out, err = run(report_args(inputs, "--special-hours", str(inputs["special"])))
    assert (code, err) == (0, "")
    assert out == (
        f"{SIX}\n"
        "9222367421889482050,30.00,2.50,2.50,30.00,0.50,0.50\n"
        "open-all-week,0.00,0.00,0.00,60.00,24.00,168.00\n"
    )


def test_cli_without_the_options_the_report_is_byte_for_byte_six_columns(
    inputs: dict[str, Path],
) -> None:
    """No special day in the file and no maximum gap: the very bytes of the plain report."""
    _, plain, _ = run(report_args(inputs))
    code, out, _ = run(report_args(inputs, "--special-hours", str(inputs["no_special"])))
    assert code == 0
    assert (
        out.encode()
        == plain.encode()
        == (
            f"{SIX}\n"
            "9222367421889482050,30.00,2.50,7.50,30.00,0.50,0.50\n"
            "open-all-week,0.00,0.00,0.00,60.00,24.00,168.00\n"
        ).encode()
    )


@pytest.mark.parametrize("gap", ["2h", "120m", "1h60m", "7200s", "PT2H", "pt1h60m"])
def test_cli_max_gap_adds_the_unknown_columns(inputs: dict[str, Path], gap: str) -> None:
    """
    With a 2-hour maximum gap only time within an hour of a poll is known.

    The first store: known 10:00-13:00, so 09:00-10:00 of its business day is unknown; up
    10:00-11:30, down 11:30-12:00. The 24x7 store: known 09:00:00.25-11:00:00.25, down;
    the last hour holds a quarter of a second of it (0.00 minutes), the rest unknown.
    """
    code, out, err = run(
        report_args(inputs, "--special-hours", str(inputs["special"]), "--max-gap", gap)
    )
    assert (code, err) == (0, "")
    assert out == (
        f"{NINE}\n"
        "9222367421889482050,30.00,1.50,1.50,30.00,0.50,0.50,0.00,1.00,1.00\n"
        "open-all-week,0.00,0.00,0.00,0.00,2.00,2.00,60.00,22.00,166.00\n"
    )


@pytest.mark.parametrize("gap", ["2x", "0h", "-2h", "two hours", "P1.5D", ""])
def test_cli_bad_max_gap_is_a_usage_error_naming_the_forms(
    inputs: dict[str, Path], gap: str
) -> None:
    """A duration that cannot be read is exit 2, one line naming the accepted forms."""
    code, out, err = run(report_args(inputs, f"--max-gap={gap}"))
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith("storemon report: error: argument --max-gap: ")
    for form in ("90m", "2h", "1h30m", "45s", "PT2H"):
        assert form in line


def test_cli_special_hours_go_with_status_only(inputs: dict[str, Path], tmp_path: Path) -> None:
    """--special-hours with --db is a usage error: the database has its own."""
    code, out, err = run(
        ["report", "--db", f"sqlite:///{tmp_path}/x.db", "--special-hours", str(inputs["special"])]
    )
    assert (code, out) == (2, "")
    assert "--special-hours" in err


def test_cli_missing_special_hours_file_exits_1(inputs: dict[str, Path], tmp_path: Path) -> None:
    """A --special-hours file that does not exist is named before any work, exit 1."""
    code, out, err = run(report_args(inputs, "--special-hours", str(tmp_path / "nope.csv")))
    assert (code, out) == (1, "")
    assert err == f"storemon report: error: --special-hours {tmp_path / 'nope.csv'}: no such file\n"


def test_cli_ingest_then_report_db_with_max_gap(inputs: dict[str, Path], tmp_path: Path) -> None:
    """ingest --special-hours stores the special days; report --db --max-gap uses them."""
    url = f"sqlite:///{tmp_path}/s.db"
    code, _, err = run(
        [
            "ingest",
            "--db",
            url,
            "--status",
            str(inputs["status"]),
            "--business-hours",
            str(inputs["hours"]),
            "--timezones",
            str(inputs["zones"]),
            "--special-hours",
            str(inputs["special"]),
        ]
    )
    assert (code, err) == (0, "")
    code, out, err = run(["report", "--db", url, "--max-gap", "2h"])
    assert (code, err) == (0, "")
    _, from_files, _ = run(
        report_args(inputs, "--special-hours", str(inputs["special"]), "--max-gap", "2h")
    )
    assert out == from_files
    code, out, _ = run(["report", "--db", url])
    assert out.splitlines()[0] == SIX
    assert out.splitlines()[1] == "9222367421889482050,30.00,2.50,2.50,30.00,0.50,0.50"


def test_cli_explain_json_lists_unknown_and_special_days(inputs: dict[str, Path]) -> None:
    """explain --json with --max-gap has the unknown numbers, stretches and special days."""
    code, out, _ = run(
        [
            "explain",
            "9222367421889482050",
            "--status",
            str(inputs["status"]),
            "--business-hours",
            str(inputs["hours"]),
            "--timezones",
            str(inputs["zones"]),
            "--special-hours",
            str(inputs["special"]),
            "--max-gap",
            "2h",
            "--json",
        ]
    )
    assert code == 0
    document = json.loads(out)
    assert document["row"]["unknown_last_week"] == "1.00"
    assert document["special_days"] == [
        {
            "date": "2024-01-01",
            "closed": True,
            "start_time_local": None,
            "end_time_local": None,
        }
    ]
    assert document["unknown"] == [
        {"start": "2024-01-01T12:00:00+00:00", "end": "2024-01-08T10:00:00+00:00"},
    ]


def test_explained_outages_leave_out_unknown_time() -> None:
    """
    A 24x7 store polled inactive at 08:00 and 17:00 with a 2-hour maximum gap: known
    07:00-09:00 and 16:00-17:00 (3 hours down), the rest of the day unknown, and the
    outages are exactly the known inactive stretches.
    """
    status = io.BytesIO(
        csv_bytes(
            STATUS_HEADER,
            [
                ("s", "inactive", "2024-01-08 08:00:00 UTC"),
                ("s", "inactive", "2024-01-08 17:00:00"),
            ],
        )
    )
    week = load_csv(status).explain("s", max_gap=dt.timedelta(hours=2))
    utc = dt.UTC
    assert week.outages() == [
        (dt.datetime(2024, 1, 8, 7, tzinfo=utc), dt.datetime(2024, 1, 8, 9, tzinfo=utc)),
        (dt.datetime(2024, 1, 8, 16, tzinfo=utc), dt.datetime(2024, 1, 8, 17, tzinfo=utc)),
    ]
    assert (week.row.downtime_last_day, week.row.unknown_last_day) == (3, 21)
    assert week.row.unknown_last_week == 165


def test_cli_explain_text_shows_unknown_time_and_special_days(inputs: dict[str, Path]) -> None:
    """
    storemon explain with --max-gap counts unknown time in the business column, shares the
    known part, and lists the unknown stretches and the week's special days.
    """
    code, out, _ = run(
        [
            "explain",
            "9222367421889482050",
            "--status",
            str(inputs["status"]),
            "--business-hours",
            str(inputs["hours"]),
            "--timezones",
            str(inputs["zones"]),
            "--special-hours",
            str(inputs["special"]),
            "--max-gap",
            "2h",
        ]
    )
    assert code == 0
    lines = out.splitlines()
    week = next(line for line in lines if line.startswith("last week"))
    assert week.split() == ["last", "week", "1.50", "h", "0.50", "h", "3.00", "h", "75.0%"]
    assert "  unknown in business hours: last hour 0.00 min, last day 1.00 h, last week 1.00 h" in (
        lines
    )
    assert lines[lines.index("Special days in the week:") + 1] == "  2024-01-01  closed"
    stretch = lines[
        lines.index(next(line for line in lines if line.startswith("Unknown time"))) + 1
    ]
    assert stretch.endswith("166 h 00 min")  # Mon 1 Jan 12:00 to Mon 8 Jan 10:00


def test_the_drawing_shows_unknown_time_and_special_dates(inputs: dict[str, Path]) -> None:
    """
    The week's drawing covers unknown time in the status lane and marks the closed date,
    each titled; both are in its legend, as on the page.
    """
    dataset = load_csv(
        inputs["status"], inputs["hours"], inputs["zones"], special_hours=inputs["special"]
    )
    svg = dataset.explain("9222367421889482050", max_gap=dt.timedelta(hours=2)).to_svg()
    assert 'data-kind="unknown"' in svg
    assert "<title>Unknown 2024-01-01 12:00 – 2024-01-08 10:00</title>" in svg
    assert "<title>Special date 2024-01-01: closed</title>" in svg
    assert 'data-legend="unknown"' in svg
    assert 'data-legend="special"' in svg
    plain = dataset.explain("9222367421889482050").to_svg()
    assert 'data-kind="unknown"' not in plain
