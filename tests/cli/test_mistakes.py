"""
Each mistake a new user made on the command line gets one clear line on standard error,
naming the option, the right exit status and no traceback, before any work is done.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

import pytest

from storemon import cli as cli_module
from tests.integration.conftest import STATUS_HEADER, Inputs, cli

BAD_HEADER = "id,state,when\n1,active,2023-01-25 10:00:00 UTC\n"


def bad_status(tmp_path: Path) -> Path:
    """
    A status file refused for its header: a command that read it would say so.
    """
    path = tmp_path / "bad-status.csv"
    path.write_text(BAD_HEADER)
    return path


def test_output_folder_is_refused_before_reading(tmp_path: Path) -> None:
    """--output naming a folder is one line, exit 1, before the inputs are read."""
    run = cli("report", "--status", str(bad_status(tmp_path)), "--output", f"{tmp_path}/")
    assert (run.status, run.out) == (1, "")
    assert (
        run.err == f"storemon report: error: --output {tmp_path}: is a folder; give a file name\n"
    )


def test_output_in_a_missing_folder_is_refused_before_reading(tmp_path: Path) -> None:
    """--output in a folder that does not exist is one line, exit 1, nothing created."""
    target = tmp_path / "missing" / "dir" / "r.csv"
    run = cli("report", "--status", str(bad_status(tmp_path)), "--output", str(target))
    assert (run.status, run.out) == (1, "")
    assert run.err == (
        f"storemon report: error: --output {target}: the folder {target.parent} does not exist\n"
    )
    assert not (tmp_path / "missing").exists()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_output_on_a_full_disk_is_one_line(inputs: Inputs) -> None:
    """Writing the report to a full device fails at write time in one line, exit 1."""
    run = cli("report", *inputs.args(), "--output", "/dev/full")
    assert (run.status, run.out) == (1, "")
    assert run.err == (
        "storemon report: error: --output /dev/full: cannot write: No space left on device\n"
    )


class FullStream:
    """
    Standard output on a full disk: every write fails.
    """

    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")

    def flush(self) -> None:
        raise OSError(28, "No space left on device")


def test_standard_output_on_a_full_disk_is_one_line(inputs: Inputs) -> None:
    """`storemon report > /dev/full` fails in one line, exit 1."""
    import io

    err = io.StringIO()
    status = cli_module.main(["report", *inputs.args()], out=FullStream(), err=err)  # type: ignore[arg-type]
    assert status == 1
    assert err.getvalue() == (
        "storemon report: error: cannot write to standard output: No space left on device\n"
    )


@pytest.mark.parametrize("target", ["file", "/dev/full"])
def test_sample_output_that_is_not_a_folder_is_refused(tmp_path: Path, target: str) -> None:
    """sample --output naming a file (or a device) is one line, exit 1."""
    path = Path(target)
    if target == "file":
        path = tmp_path / "a-file"
        path.write_text("x")
    if not path.exists():
        pytest.skip("needs Linux's /dev/full")
    run = cli("sample", "--output", str(path), "--stores", "3")
    assert (run.status, run.out) == (1, "")
    assert run.err == f"storemon sample: error: --output {path}: is not a folder\n"


def test_sample_creates_missing_folders(tmp_path: Path) -> None:
    """sample --output in folders that do not exist yet creates them, like mkdir -p."""
    target = tmp_path / "new" / "data"
    run = cli("sample", "--output", str(target), "--stores", "3", "--json")
    assert run.status == 0
    files = json.loads(run.out)["files"]
    assert sorted(Path(name).name for name in files) == [
        "business_hours.csv",
        "store_status.csv",
        "timezones.csv",
    ]
    assert all(Path(name).is_file() for name in files)


def test_sample_write_failure_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that fills while the sample is written is one line naming the file, exit 1."""
    import storemon.sample

    def full(output_dir: Path, **_: object) -> dict[str, int]:
        raise OSError(28, "No space left on device", str(output_dir / "store_status.csv"))

    monkeypatch.setattr(storemon.sample, "write_sample", full)
    run = cli("sample", "--output", str(tmp_path), "--stores", "3")
    assert run.status == 1
    assert run.err == (
        f"storemon sample: error: --output {tmp_path}: cannot write "
        f"{tmp_path}/store_status.csv: No space left on device\n"
    )


def test_missing_input_file_is_one_line(tmp_path: Path) -> None:
    """A --business-hours file that is not there is one line, exit 1, before any work."""
    status = tmp_path / "status.csv"
    status.write_text(STATUS_HEADER)
    missing = tmp_path / "hours.csv"
    run = cli("report", "--status", str(status), "--business-hours", str(missing))
    assert (run.status, run.out) == (1, "")
    assert run.err == f"storemon report: error: --business-hours {missing}: no such file\n"


def test_input_that_is_a_folder_is_one_line(tmp_path: Path) -> None:
    """A --status that names a folder is one line, exit 1."""
    run = cli("report", "--status", str(tmp_path))
    assert (run.status, run.out) == (1, "")
    assert run.err == f"storemon report: error: --status {tmp_path}: is a folder, not a CSV file\n"


def test_report_from_defaults_says_so(inputs: Inputs) -> None:
    """A report without hours and zones files says on stderr which defaults it used."""
    run = cli("report", "--status", str(inputs.status))
    assert run.status == 0
    assert run.err == (
        "storemon report: note: no --business-hours, so every store is open 24 hours, 7 days\n"
        "storemon report: note: no --timezones, so every store's hours are in America/Chicago\n"
    )
    quiet = cli("report", "--status", str(inputs.status), "--quiet")
    assert (quiet.status, quiet.out, quiet.err) == (0, run.out, "")


def test_report_with_every_file_has_no_notes(inputs: Inputs) -> None:
    """A report from all three files writes nothing on stderr."""
    run = cli("report", *inputs.args())
    assert (run.status, run.err) == (0, "")


@pytest.mark.parametrize(
    ("given", "as_of"),
    [
        ("2023-01-25", "2023-01-25T00:00:00+00:00"),
        ("2023-01-25T12:00", "2023-01-25T12:00:00+00:00"),
        ("2023-01-25 12:00", "2023-01-25T12:00:00+00:00"),
        ("2023-01-25T12:00:00Z", "2023-01-25T12:00:00+00:00"),
        ("2023-01-25T07:00:00.25-05:00", "2023-01-25T12:00:00.250000+00:00"),
        ("2023-01-25 12:09:39.388884 UTC", "2023-01-25T12:09:39.388884+00:00"),
    ],
)
def test_as_of_takes_common_iso_forms(inputs: Inputs, given: str, as_of: str) -> None:
    """--as-of takes a date alone, T or a space, Z, offsets, fractions and the data's spelling."""
    run = cli("report", *inputs.args(), "--as-of", given, "--format", "json")
    assert (run.status, run.err) == (0, "")
    document = json.loads(run.out)
    assert document["as_of"] == as_of
    assert document["warnings"] == []


def poll_range(path: Path) -> str:
    """
    The first and latest poll of a status file as the warnings write them, read here with
    the standard library.
    """
    instants = []
    for line in path.read_text().splitlines()[1:]:
        text = line.rsplit(",", 1)[1].replace(" UTC", "+00:00").replace("Z", "+00:00")
        instants.append(dt.datetime.fromisoformat(text).astimezone(dt.UTC))

    def written(at: dt.datetime) -> str:
        return at.isoformat(sep=" ").replace("+00:00", " UTC")

    return f"the polls run from {written(min(instants))} to {written(max(instants))}"


def test_as_of_before_the_data_warns_with_the_range(inputs: Inputs) -> None:
    """An --as-of before every poll gives an empty report, exit 0, and a warning with the range."""
    run = cli("report", *inputs.args(), "--as-of", "2000-01-01 00:00:00")
    assert run.status == 0
    assert run.out.count("\n") == 1  # the header only
    assert run.err == (
        "storemon report: warning: --as-of 2000-01-01 00:00:00 UTC is before the data "
        f"({poll_range(inputs.status)}): the report is empty\n"
    )


def test_as_of_after_the_data_warns_with_the_range(inputs: Inputs) -> None:
    """An --as-of after every poll is reported, exit 0, with a warning in text and in JSON."""
    run = cli("report", *inputs.args(), "--as-of", "2030-01-01 00:00:00", "--format", "json")
    assert run.status == 0
    (warning,) = json.loads(run.out)["warnings"]
    assert warning == (
        "warning: --as-of 2030-01-01 00:00:00 UTC is after the data "
        f"({poll_range(inputs.status)}): each store's last status is carried forward to it"
    )
    assert run.err == f"storemon report: {warning}\n"


def test_as_of_after_a_database_warns_with_its_latest_poll(inputs: Inputs, filled_db: str) -> None:
    """From a database, an --as-of after the polls warns with the latest stored poll."""
    run = cli("report", "--db", filled_db, "--as-of", "2030-01-01")
    assert run.status == 0
    latest = poll_range(inputs.status).rpartition(" to ")[2]
    assert run.err == (
        "storemon report: warning: --as-of 2030-01-01 00:00:00 UTC is after the data "
        f"(the latest poll is at {latest}): each store's last status is carried forward to it\n"
    )
    early = cli("report", "--db", filled_db, "--as-of", "2000-01-01")
    assert early.err == (
        "storemon report: warning: --as-of 2000-01-01 00:00:00 UTC is before the data "
        f"(the latest poll is at {latest}): the report is empty\n"
    )


def test_as_of_that_cannot_be_read_is_a_usage_error(inputs: Inputs) -> None:
    """An --as-of in no known form is one line naming the forms, exit 2."""
    run = cli("report", *inputs.args(), "--as-of", "25/01/2023")
    assert (run.status, run.out) == (2, "")
    assert run.err.count("\n") == 1
    assert run.err.startswith(
        "storemon report: error: argument --as-of: cannot read '25/01/2023' as a time; "
        "write ISO 8601 such as 2023-01-25 (midnight UTC)"
    )


def test_report_from_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    """report --db naming a missing file is one line naming --db, exit 1, and no file appears."""
    os.chdir(tmp_path)
    run = cli("report", "--db", "sqlite:///typo.db")
    assert (run.status, run.out) == (1, "")
    assert run.err == (
        "storemon report: error: --db sqlite:///typo.db: typo.db: no such database file "
        "(nothing was created)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_report_from_a_file_that_is_not_a_storemon_database(tmp_path: Path) -> None:
    """report --db on a SQLite file without storemon's tables is refused and left unchanged."""
    path = tmp_path / "other.db"
    sqlite3.connect(path).close()
    before = path.read_bytes()
    run = cli("report", "--db", f"sqlite:///{path}")
    assert run.status == 1
    assert run.err == (
        f"storemon report: error: --db sqlite:///{path}: {path}: not a storemon database "
        "(it has none of its tables)\n"
    )
    assert path.read_bytes() == before


def test_explain_from_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    """explain --db naming a missing file is refused like report --db."""
    path = tmp_path / "nope.db"
    run = cli("explain", "1", "--db", f"sqlite:///{path}")
    assert run.status == 1
    assert run.err.startswith(f"storemon explain: error: --db sqlite:///{path}: ")
    assert not path.exists()


def test_database_url_without_a_scheme_is_one_line(inputs: Inputs) -> None:
    """A --db that is not a URL is one line, exit 1."""
    run = cli("report", "--db", "storemon.db")
    assert run.status == 1
    assert run.err.startswith("storemon report: error: --db: 'storemon.db' is not a database URL")


def test_unwritable_rejects_file_is_refused_before_storing(tmp_path: Path, inputs: Inputs) -> None:
    """ingest --rejects in a missing folder exits 1 before anything is stored."""
    db = tmp_path / "fresh.db"
    rejects = tmp_path / "no" / "rejects.csv"
    run = cli("ingest", "--db", f"sqlite:///{db}", *inputs.args(), "--rejects", str(rejects))
    assert (run.status, run.out) == (1, "")
    assert run.err == (
        f"storemon ingest: error: --rejects {rejects}: the folder {rejects.parent} does not exist\n"
    )
    assert not db.exists()


def test_rejects_file_failing_while_written_says_the_rows_were_stored(
    tmp_path: Path, inputs: Inputs
) -> None:
    """A rejects file failing only when written (a full disk) says the good rows were stored."""
    if not os.path.exists("/dev/full"):
        pytest.skip("needs Linux's /dev/full")
    db = f"sqlite:///{tmp_path}/x.db"
    with inputs.status.open("a") as handle:
        handle.write("1,dormant,2023-01-25 10:00:00 UTC\n")
    run = cli("ingest", "--db", db, "--status", str(inputs.status), "--rejects", "/dev/full")
    assert run.status == 1
    assert run.err.splitlines()[-1] == (
        "storemon ingest: error: --rejects /dev/full: cannot write the rejected rows "
        "(No space left on device); the good rows were stored"
    )


def test_nothing_to_ingest_is_a_usage_error() -> None:
    """ingest without a source is one line, exit 2."""
    run = cli("ingest", "--db", "memory://")
    assert run.status == 2
    assert run.err == (
        "storemon ingest: error: nothing to ingest; give --status, --business-hours, "
        "--timezones and/or --special-hours\n"
    )


def test_unknown_option_is_one_line_with_a_pointer_to_help() -> None:
    """An unknown option is one line naming it and the help to read, exit 2."""
    run = cli("report", "--db", "memory://", "--frobnicate")
    assert run.status == 2
    assert run.err.count("\n") == 1
    assert "storemon report: error:" in run.err
    assert "--frobnicate" in run.err
    assert "(see 'storemon report --help')" in run.err


def test_interrupt_is_one_line(inputs: Inputs, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C during a command is one line and exit 130, not a traceback."""
    import storemon.dataset

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(storemon.dataset, "load_csv", interrupted)
    run = cli("report", *inputs.args())
    assert (run.status, run.err) == (130, "storemon report: interrupted\n")
